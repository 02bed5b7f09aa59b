#pragma once
// A text-format document: its UTF-8 text, its tree-sitter tree, a line index,
// and the conversions between byte offsets, LSP positions (UTF-16 or UTF-8
// code units) and 1-based line/column (Unicode code points) for the CLI.
//
// Parsing never fails: any byte sequence (invalid UTF-8, NUL bytes, deep
// nesting) gives a tree, possibly with ERROR/MISSING nodes, and syntax
// diagnostics describing them.
#include <tree_sitter/api.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/syntax/diagnostic.h"

extern "C" const TSLanguage* tree_sitter_textproto(void);

namespace amct::syntax {

enum class PositionEncoding { Utf8, Utf16 };

// LSP position: 0-based line, character in code units of the negotiated encoding.
struct Position {
  uint32_t line = 0;
  uint32_t character = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

struct Range {
  Position start;
  Position end;
  friend bool operator==(const Range&, const Range&) = default;
};

// 1-based line and column; the column counts Unicode code points.
struct LineColumn {
  uint32_t line = 1;
  uint32_t column = 1;
  friend bool operator==(const LineColumn&, const LineColumn&) = default;
};

// One LSP TextDocumentContentChangeEvent: a range replacement, or the whole
// text when `range` is empty.
struct TextChange {
  std::optional<Range> range;
  std::string text;
};

class Document {
 public:
  explicit Document(std::string text);
  ~Document();
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // An independent copy sharing nothing mutable (the tree is copied in O(1)),
  // so a worker can analyze a version while the editor keeps typing.
  Document snapshot() const;

  // Valid until the next change (which may give the document a new buffer).
  const std::string& text() const { return *text_; }
  // The text, shared: it stays as it is when the document changes (a change
  // copies it first when anyone holds it), so that the checks of an editor
  // keep the version they saw without copying megabytes.
  std::shared_ptr<const std::string> shared_text() const { return text_; }
  // The tree is parsed on first use after construction or a change, by the
  // thread that asks (thread-safe), so that whoever only applies changes —
  // the language server's reader — never waits for tree-sitter.
  TSNode root() const;
  const TSTree* tree() const;
  // Whether the tree of this very text is parsed (root() costs nothing).
  bool is_parsed() const { return parsed_.load(std::memory_order_acquire); }
  // Parses the tree now, unless `cancel` turns non-zero first: then nothing
  // changes (the next root() parses) and it returns false. For idle time: a
  // server parses the version it checked from the fields around an edit, so
  // that the next request finds the tree, and stops when an edit arrives.
  bool parse_unless_cancelled(const std::atomic<size_t>& cancel) const;

  // Applies an LSP content change to the text and as a tree-sitter edit to
  // the old tree; the next use of the tree re-parses incrementally with it.
  // Positions past the end are clamped.
  void apply_change(const TextChange& change, PositionEncoding encoding);

  // Lengths known to be common to the start and to the end of this text and
  // of `earlier`, one of this document's texts a few changes ago, from the
  // ranges of the changes since, without reading either text: lower bounds
  // for common_prefix/common_suffix. `earlier` is recognised by its address,
  // so the caller must hold it (then no later version can have that
  // address) and must know it is of this document (see lineage()). nullopt:
  // not among the last kRecentChanges texts.
  struct KnownEnds {
    size_t prefix = 0, suffix = 0;
  };
  std::optional<KnownEnds> unchanged_ends_since(const std::string* earlier) const;
  static constexpr size_t kRecentChanges = 32;
  // The same for a document and all its snapshots and changed versions;
  // another for a document constructed from a text.
  uint64_t lineage() const { return lineage_; }

  // Takes the parsed tree of `parsed`, a snapshot of this document with the
  // same text, so that the next re-parse starts from it rather than from an
  // older tree with more edits. Ignored when the texts differ. Returns the
  // tree it replaced: freeing one takes milliseconds for a large file, which
  // the caller may spend outside its locks.
  struct TreeDeleter {
    void operator()(TSTree* tree) const { ts_tree_delete(tree); }
  };
  [[nodiscard]] std::unique_ptr<TSTree, TreeDeleter> adopt_tree(const Document& parsed);

  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_->size()); }
  uint32_t line_start(uint32_t line) const {  // byte offset; clamped
    return line < line_starts_->size() ? (*line_starts_)[line] : static_cast<uint32_t>(text_->size());
  }
  uint32_t line_end(uint32_t line) const;    // byte offset of the '\n' (or EOF)

  uint32_t offset_at(Position position, PositionEncoding encoding) const;  // clamped
  Position position_at(uint32_t offset, PositionEncoding encoding) const;
  Range range_of(ByteRange range, PositionEncoding encoding) const;
  LineColumn line_column_at(uint32_t offset) const;

  std::string_view text_of(TSNode node) const;
  std::string_view text_of(ByteRange range) const;

  // ERROR and MISSING nodes as diagnostics with code "syntax-error", the
  // smallest precise range and a message such as
  // "expected ':' after field name 'dst_type'".
  std::vector<Diagnostic> syntax_diagnostics() const;

 private:
  Document() = default;
  void ensure_parsed() const;
  // False (nothing changed) when `cancel` (may be null) stopped the parse.
  bool reparse(TSParser* parser, const TSTree* old_tree, const std::atomic<size_t>* cancel) const;
  void index_lines();
  // Updates line_starts_ for text_[start, start + inserted) replacing `removed` bytes.
  void reindex_lines(uint32_t start, uint32_t removed, std::string_view inserted);
  // Before a change of the current text that leaves its first `prefix` and
  // last `suffix` bytes alone.
  void record_change(size_t prefix, size_t suffix);

  // Both never null, shared with snapshots, changed in place only when not
  // shared: a snapshot per edit then copies no megabytes.
  std::shared_ptr<std::string> text_;
  std::shared_ptr<std::vector<uint32_t>> line_starts_;
  // The last changes, oldest first: the text each was applied to (its
  // address and size) and the bytes it left alone at either end.
  struct ChangeRecord {
    const std::string* before = nullptr;
    size_t before_size = 0;
    size_t prefix = 0, suffix = 0;
  };
  std::vector<ChangeRecord> recent_changes_;
  uint64_t lineage_ = 0;
  // The buffers of the version before, kept for their capacity: once no
  // snapshot holds them, the next change writes its text and line index
  // into them instead of faulting in fresh megabytes.
  std::shared_ptr<std::string> spare_text_;
  std::shared_ptr<std::vector<uint32_t>> spare_line_starts_;
  // The tree of `text_` once parsed; before that, the last tree with the
  // changes since applied as edits (null: parse from scratch).
  mutable TSTree* tree_ = nullptr;
  mutable bool parse_gave_up_ = false;  // the parse ran out of budget; the tree is empty
  // An upper bound of the brackets still open at the end of `text_` (see
  // document.cpp): counting them exactly reads the whole text, 10 ms for
  // 3 MB, so an edit only raises the bound by what its lines can change, and
  // the exact count is taken when the bound passes the parser's limit.
  // UINT32_MAX: not known (a new text).
  mutable uint32_t unclosed_bound_ = UINT32_MAX;
  mutable std::atomic<bool> parsed_{false};
  mutable std::unique_ptr<std::mutex> parse_mutex_ = std::make_unique<std::mutex>();
};

// Parse budget: this plus 2 µs per byte of text.
inline constexpr uint64_t kParseBudgetMicros = 10'000'000;

ByteRange byte_range_of(TSNode node);

}  // namespace amct::syntax
