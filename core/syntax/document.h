#pragma once
// A text-format document: its UTF-8 text, its tree-sitter tree, a line index,
// and the conversions between byte offsets, LSP positions (UTF-16 or UTF-8
// code units) and 1-based line/column (Unicode code points) for the CLI.
//
// Parsing never fails: any byte sequence (invalid UTF-8, NUL bytes, deep
// nesting) gives a tree, possibly with ERROR/MISSING nodes, and syntax
// diagnostics describing them.
#include <tree_sitter/api.h>

#include <cstdint>
#include <memory>
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

  const std::string& text() const { return text_; }
  TSNode root() const;
  const TSTree* tree() const { return tree_; }

  // Applies an LSP content change as a tree-sitter edit and re-parses
  // incrementally with the old tree. Positions past the end are clamped.
  void apply_change(const TextChange& change, PositionEncoding encoding);

  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }
  uint32_t line_start(uint32_t line) const;  // byte offset; clamped
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
  void reparse(const TSTree* old_tree);
  void index_lines();

  std::string text_;
  TSParser* parser_ = nullptr;
  TSTree* tree_ = nullptr;
  std::vector<uint32_t> line_starts_;
  bool parse_gave_up_ = false;  // the parse ran out of budget; the tree is empty
};

// Parse budget: this plus 2 µs per byte of text.
inline constexpr uint64_t kParseBudgetMicros = 10'000'000;

ByteRange byte_range_of(TSNode node);

}  // namespace amct::syntax
