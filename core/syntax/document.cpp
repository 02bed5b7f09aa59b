#include "core/syntax/document.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/syntax/utf.h"

namespace amct::syntax {

namespace {

bool is_error(TSNode node) { return ts_node_symbol(node) == static_cast<TSSymbol>(-1); }

std::string quoted(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  if (text.size() > kMax) {
    out.append(text.substr(0, kMax));
    out += "…";
  } else {
    out.append(text);
  }
  out += "'";
  return out;
}

// The leaves (tokens, and ERROR nodes without children: characters no token
// matched) of a subtree, in order. Iterative: the tree may be 10,000 deep.
// With a cursor: ts_node_child(root, i) searches from the first child.
bool error_in_visible_child(TSNode node) {
  TSTreeCursor cursor = ts_tree_cursor_new(node);
  bool found = false;
  if (ts_tree_cursor_goto_first_child(&cursor)) {
    do {
      found = ts_node_has_error(ts_tree_cursor_current_node(&cursor));
    } while (!found && ts_tree_cursor_goto_next_sibling(&cursor));
  }
  ts_tree_cursor_delete(&cursor);
  return found;
}

std::vector<TSNode> leaves_of(TSNode node) {
  std::vector<TSNode> leaves;
  TSTreeCursor cursor = ts_tree_cursor_new(node);
  for (;;) {
    TSNode current = ts_tree_cursor_current_node(&cursor);
    if (ts_node_child_count(current) == 0) {
      leaves.push_back(current);
    } else if (ts_tree_cursor_goto_first_child(&cursor)) {
      continue;
    }
    bool moved = false;
    while (!moved) {
      if (ts_tree_cursor_goto_next_sibling(&cursor)) {
        moved = true;
      } else if (!ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return leaves;
      }
    }
  }
}

bool is_value_token(const char* type) {
  return !std::strcmp(type, "identifier") || !std::strcmp(type, "integer") ||
         !std::strcmp(type, "float") || !std::strcmp(type, "string") ||
         !std::strcmp(type, "\"") || !std::strcmp(type, "'") || !std::strcmp(type, "-") ||
         !std::strcmp(type, "_integer_literal") || !std::strcmp(type, "_float_literal");
}

bool is_word_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '.';
}

// The name of the field a node belongs to, for messages such as
// "expected ':' after field name 'dst_type'".
std::string field_name_before(const Document& document, const std::vector<TSNode>& leaves, size_t index) {
  for (size_t i = index; i-- > 0;) {
    TSNode leaf = leaves[i];
    TSNode parent = ts_node_parent(leaf);
    if (!ts_node_is_null(parent) && !std::strcmp(ts_node_type(parent), "field_name"))
      return std::string(document.text_of(parent));
    if (!std::strcmp(ts_node_type(leaf), "identifier")) return std::string(document.text_of(leaf));
  }
  return {};
}

// tree-sitter 0.20.7 (Debian 12's runtime) corrupts its heap when error
// recovery meets ~30,000 unclosed blocks (`a {` repeated: an invalid free in
// ts_subtree_release; hostile-config finding), and spends minutes on other
// shapes of that size. Text with more unclosed brackets than this is not
// given to the parser: it gets the give-up diagnostic. Closed nesting of any
// depth parses normally.
constexpr uint32_t kMaxUnclosedBrackets = 12000;

// Brackets `{ < [` still open at the end of `text` (strings and comments skipped).
uint32_t unclosed_brackets(std::string_view text) {
  uint32_t depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < text.size() && text[i] != c && text[i] != '\n'; ++i)
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i;  // a string ends at the line's end
    } else if (c == '{' || c == '<' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == '>' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return depth;
}

// How much replacing the lines [first, last] of a text by others can change
// unclosed_brackets(): strings and comments end at the line's end, so the
// scan enters every line in the same state, and each bracket moves the final
// count by at most one (the later brackets do not widen a difference).
uint32_t brackets_in(std::string_view lines) {
  uint32_t count = 0;
  for (const char c : lines)
    count += c == '{' || c == '<' || c == '[' || c == '}' || c == '>' || c == ']';
  return count;
}

// The whole lines of `text` around [start, end).
std::string_view lines_around(std::string_view text, size_t start, size_t end) {
  start = std::min(start, text.size());
  end = std::clamp(end, start, text.size());
  const size_t line_start = text.rfind('\n', start == 0 ? std::string_view::npos : start - 1);
  const size_t from = line_start == std::string_view::npos || start == 0 ? 0 : line_start + 1;
  const size_t line_end = text.find('\n', end);
  const size_t to = line_end == std::string_view::npos ? text.size() : line_end;
  return text.substr(from, to - from);
}

// `spare` itself when nothing else holds it any more, for its capacity;
// else a new buffer.
template <class Buffer>
std::shared_ptr<Buffer> reuse_or_new(std::shared_ptr<Buffer>& spare) {
  if (spare && spare.use_count() == 1) return std::exchange(spare, nullptr);
  return std::make_shared<Buffer>();
}

}  // namespace

ByteRange byte_range_of(TSNode node) { return {ts_node_start_byte(node), ts_node_end_byte(node)}; }

Document::Document(std::string text) : text_(std::make_shared<std::string>(std::move(text))) {
  static std::atomic<uint64_t> next_lineage{1};
  lineage_ = next_lineage.fetch_add(1, std::memory_order_relaxed);
  index_lines();
}

Document::~Document() {
  if (tree_) ts_tree_delete(tree_);
}

// Moves are not concurrent with uses (the moved-from document is the
// caller's), so they need not lock.
Document::Document(Document&& other) noexcept
    : text_(std::exchange(other.text_, std::make_shared<std::string>())),
      line_starts_(std::exchange(other.line_starts_, std::make_shared<std::vector<uint32_t>>(1, 0))),
      recent_changes_(std::move(other.recent_changes_)),
      lineage_(other.lineage_),
      spare_text_(std::move(other.spare_text_)),
      spare_line_starts_(std::move(other.spare_line_starts_)),
      tree_(std::exchange(other.tree_, nullptr)),
      parse_gave_up_(other.parse_gave_up_),
      unclosed_bound_(other.unclosed_bound_),
      parsed_(other.parsed_.load()) {}

Document& Document::operator=(Document&& other) noexcept {
  if (this != &other) {
    if (tree_) ts_tree_delete(tree_);
    text_ = std::exchange(other.text_, std::make_shared<std::string>());
    line_starts_ = std::exchange(other.line_starts_, std::make_shared<std::vector<uint32_t>>(1, 0));
    recent_changes_ = std::move(other.recent_changes_);
    lineage_ = other.lineage_;
    spare_text_ = std::move(other.spare_text_);
    spare_line_starts_ = std::move(other.spare_line_starts_);
    tree_ = std::exchange(other.tree_, nullptr);
    parse_gave_up_ = other.parse_gave_up_;
    unclosed_bound_ = other.unclosed_bound_;
    parsed_ = other.parsed_.load();
  }
  return *this;
}

Document Document::snapshot() const {
  Document copy;
  copy.text_ = text_;
  copy.line_starts_ = line_starts_;
  copy.recent_changes_ = recent_changes_;
  copy.lineage_ = lineage_;
  // Under the lock: a parse of this document may be replacing the tree.
  std::lock_guard lock(*parse_mutex_);
  copy.tree_ = tree_ ? ts_tree_copy(tree_) : nullptr;
  copy.parse_gave_up_ = parse_gave_up_;
  copy.unclosed_bound_ = unclosed_bound_;
  copy.parsed_ = parsed_.load();
  return copy;
}

std::unique_ptr<TSTree, Document::TreeDeleter> Document::adopt_tree(const Document& parsed) {
  if (parsed.text_ != text_ && *parsed.text_ != *text_) return nullptr;
  parsed.ensure_parsed();
  std::lock_guard lock(*parse_mutex_);
  std::unique_ptr<TSTree, TreeDeleter> replaced(std::exchange(tree_, ts_tree_copy(parsed.tree_)));
  parse_gave_up_ = parsed.parse_gave_up_;
  // The same text: the parse's bound (counted exactly when it was unknown)
  // holds here too. Without it a document opened with its text keeps an
  // unknown bound, and every snapshot's parse counts the brackets of the
  // whole text again.
  unclosed_bound_ = std::min(unclosed_bound_, parsed.unclosed_bound_);
  parsed_ = true;
  return replaced;
}

namespace {

// One parser per thread, kept warm (its stacks and node pool) across
// documents and versions: a fresh parser makes a re-parse markedly slower.
TSParser* thread_parser() {
  thread_local std::unique_ptr<TSParser, decltype(&ts_parser_delete)> parser(nullptr, ts_parser_delete);
  if (!parser) {
    parser.reset(ts_parser_new());
    ts_parser_set_language(parser.get(), tree_sitter_textproto());
  }
  return parser.get();
}

}  // namespace

void Document::ensure_parsed() const {
  if (parsed_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(*parse_mutex_);
  if (parsed_.load(std::memory_order_relaxed)) return;
  // The placeholder tree of a parse that gave up has nothing to reuse.
  reparse(thread_parser(), parse_gave_up_ ? nullptr : tree_, nullptr);
  parsed_.store(true, std::memory_order_release);
}

bool Document::parse_unless_cancelled(const std::atomic<size_t>& cancel) const {
  if (parsed_.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(*parse_mutex_);
  if (parsed_.load(std::memory_order_relaxed)) return true;
  if (!reparse(thread_parser(), parse_gave_up_ ? nullptr : tree_, &cancel)) return false;
  parsed_.store(true, std::memory_order_release);
  return true;
}

TSNode Document::root() const {
  ensure_parsed();
  return ts_tree_root_node(tree_);
}

const TSTree* Document::tree() const {
  ensure_parsed();
  return tree_;
}

bool Document::reparse(TSParser* parser, const TSTree* old_tree, const std::atomic<size_t>* cancel) const {
  // tree-sitter's error recovery can take minutes on pathological input
  // (100,000 unclosed `[` in a row): past a budget generous for any real
  // file, give up with a diagnostic rather than hang the editor or CI.
  const uint64_t budget_micros = kParseBudgetMicros + 2 * static_cast<uint64_t>((*text_).size());
  ts_parser_set_timeout_micros(parser, budget_micros);
  // tree-sitter reads the flag atomically as a size_t.
  static_assert(sizeof(std::atomic<size_t>) == sizeof(size_t));
  ts_parser_set_cancellation_flag(parser, reinterpret_cast<const size_t*>(cancel));
  if (unclosed_bound_ > kMaxUnclosedBrackets) unclosed_bound_ = unclosed_brackets((*text_));
  TSTree* tree = unclosed_bound_ > kMaxUnclosedBrackets
                     ? nullptr
                     : ts_parser_parse_string(parser, old_tree, (*text_).data(), static_cast<uint32_t>((*text_).size()));
  ts_parser_set_cancellation_flag(parser, nullptr);
  if (tree == nullptr && cancel != nullptr && cancel->load() != 0) {
    // Halted, not given up: the parser would resume this parse next time.
    ts_parser_reset(parser);
    return false;
  }
  parse_gave_up_ = tree == nullptr;
  if (parse_gave_up_) {
    ts_parser_reset(parser);
    ts_parser_set_timeout_micros(parser, 0);
    tree = ts_parser_parse_string(parser, nullptr, "", 0);
  }
  if (tree_) ts_tree_delete(tree_);
  tree_ = tree;
  return true;
}

void Document::index_lines() {
  auto lines = std::make_shared<std::vector<uint32_t>>(1, 0);
  const char* data = (*text_).data();
  const char* end = data + (*text_).size();
  for (const char* p = data; (p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr; ++p)
    lines->push_back(static_cast<uint32_t>(p - data + 1));
  line_starts_ = std::move(lines);
}

void Document::reindex_lines(uint32_t start, uint32_t removed, std::string_view inserted) {
  // Line starts after `start` up to the end of the removed bytes go; those
  // of the inserted text come in; the rest move by the change in length.
  std::vector<uint32_t>& lines = *line_starts_;
  const auto first = std::upper_bound(lines.begin(), lines.end(), start);
  const auto last = std::upper_bound(first, lines.end(), start + removed);
  std::vector<uint32_t> added;
  for (size_t at = inserted.find('\n'); at != std::string_view::npos; at = inserted.find('\n', at + 1))
    added.push_back(static_cast<uint32_t>(start + at + 1));
  const uint32_t delta = static_cast<uint32_t>(inserted.size()) - removed;  // modular
  if (line_starts_.use_count() == 1) {
    for (auto it = last; it != lines.end(); ++it) *it += delta;
    const auto erased_at = lines.erase(first, last);
    lines.insert(erased_at, added.begin(), added.end());
    return;
  }
  // A snapshot shares the old index: it stays as it is.
  std::shared_ptr<std::vector<uint32_t>> next = reuse_or_new(spare_line_starts_);
  next->clear();
  next->reserve(lines.size() - static_cast<size_t>(last - first) + added.size());
  next->insert(next->end(), lines.begin(), first);
  next->insert(next->end(), added.begin(), added.end());
  for (auto it = last; it != lines.end(); ++it) next->push_back(*it + delta);
  spare_line_starts_ = std::exchange(line_starts_, std::move(next));
}

uint32_t Document::line_end(uint32_t line) const {
  if (line + 1 >= line_starts_->size()) return static_cast<uint32_t>((*text_).size());
  return (*line_starts_)[line + 1] - 1;
}

uint32_t Document::offset_at(Position position, PositionEncoding encoding) const {
  if (position.line >= line_starts_->size()) return static_cast<uint32_t>((*text_).size());
  const uint32_t start = (*line_starts_)[position.line];
  const uint32_t end = line_end(position.line);
  if (encoding == PositionEncoding::Utf8) return std::min(start + position.character, end);
  uint32_t offset = start;
  uint32_t units = 0;
  while (offset < end && units < position.character) {
    const DecodedChar decoded = decode_utf8((*text_), offset);
    units += utf16_length(decoded.code_point);
    offset += decoded.length;
  }
  return offset;
}

Position Document::position_at(uint32_t offset, PositionEncoding encoding) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>((*text_).size()));
  const std::vector<uint32_t>& lines = *line_starts_;
  const auto it = std::upper_bound(lines.begin(), lines.end(), offset);
  const uint32_t line = static_cast<uint32_t>(it - lines.begin() - 1);
  const uint32_t start = lines[line];
  if (encoding == PositionEncoding::Utf8) return {line, offset - start};
  uint32_t units = 0;
  for (uint32_t at = start; at < offset;) {
    const DecodedChar decoded = decode_utf8((*text_), at);
    units += utf16_length(decoded.code_point);
    at += decoded.length;
  }
  return {line, units};
}

Range Document::range_of(ByteRange range, PositionEncoding encoding) const {
  return {position_at(range.start, encoding), position_at(range.end, encoding)};
}

LineColumn Document::line_column_at(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>((*text_).size()));
  const std::vector<uint32_t>& lines = *line_starts_;
  const auto it = std::upper_bound(lines.begin(), lines.end(), offset);
  const uint32_t line = static_cast<uint32_t>(it - lines.begin() - 1);
  uint32_t column = 1;
  for (uint32_t at = lines[line]; at < offset; ++column) at += decode_utf8((*text_), at).length;
  return {line + 1, column};
}

std::string_view Document::text_of(TSNode node) const { return text_of(byte_range_of(node)); }

std::string_view Document::text_of(ByteRange range) const {
  const size_t start = std::min<size_t>(range.start, (*text_).size());
  const size_t end = std::clamp<size_t>(range.end, start, (*text_).size());
  return std::string_view(*text_).substr(start, end - start);
}

std::optional<Document::KnownEnds> Document::unchanged_ends_since(const std::string* earlier) const {
  if (earlier == text_.get()) return std::nullopt;  // the same buffer, maybe changed in place since
  for (size_t i = recent_changes_.size(); i-- > 0;) {
    const ChangeRecord& record = recent_changes_[i];
    if (record.before != earlier || record.before_size != earlier->size()) continue;
    // What every change since left alone is common to both texts.
    KnownEnds known{record.prefix, record.suffix};
    for (size_t k = i + 1; k < recent_changes_.size(); ++k) {
      known.prefix = std::min(known.prefix, recent_changes_[k].prefix);
      known.suffix = std::min(known.suffix, recent_changes_[k].suffix);
    }
    return known;
  }
  return std::nullopt;
}

void Document::record_change(size_t prefix, size_t suffix) {
  if (recent_changes_.size() == kRecentChanges) recent_changes_.erase(recent_changes_.begin());
  recent_changes_.push_back({text_.get(), text_->size(), prefix, suffix});
}

void Document::apply_change(const TextChange& change, PositionEncoding encoding) {
  std::lock_guard lock(*parse_mutex_);
  parsed_ = false;
  if (!change.range) {
    record_change(0, 0);
    text_ = std::make_shared<std::string>(change.text);
    if (tree_) ts_tree_delete(tree_);
    tree_ = nullptr;
    parse_gave_up_ = false;
    index_lines();
    unclosed_bound_ = UINT32_MAX;  // unknown: counted at the next parse
    return;
  }
  uint32_t start = offset_at(change.range->start, encoding);
  uint32_t old_end = offset_at(change.range->end, encoding);
  if (old_end < start) std::swap(start, old_end);
  const auto point_at = [this](uint32_t offset) {
    const Position p = position_at(offset, PositionEncoding::Utf8);
    return TSPoint{p.line, p.character};
  };
  TSInputEdit edit;
  edit.start_byte = start;
  edit.old_end_byte = old_end;
  edit.new_end_byte = start + static_cast<uint32_t>(change.text.size());
  edit.start_point = point_at(start);
  edit.old_end_point = point_at(old_end);
  const uint32_t removed_brackets = brackets_in(lines_around(*text_, start, old_end));
  record_change(start, text_->size() - old_end);
  if (text_.use_count() == 1) {
    text_->replace(start, old_end - start, change.text);
  } else {  // a snapshot shares the old text: it stays as it is
    const std::string& old = *text_;
    std::shared_ptr<std::string> next = reuse_or_new(spare_text_);
    next->clear();
    next->reserve(old.size() - (old_end - start) + change.text.size());
    next->append(old, 0, start).append(change.text).append(old, old_end, std::string::npos);
    spare_text_ = std::exchange(text_, std::move(next));
  }
  reindex_lines(start, old_end - start, change.text);
  const uint32_t added_brackets = brackets_in(lines_around(*text_, start, edit.new_end_byte));
  unclosed_bound_ = static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{unclosed_bound_} + removed_brackets + added_brackets, UINT32_MAX));
  edit.new_end_point = point_at(edit.new_end_byte);
  // A placeholder tree (the parse gave up) is dropped at the next parse; no tree: parsed from scratch.
  if (tree_ && !parse_gave_up_) ts_tree_edit(tree_, &edit);
}

std::vector<Diagnostic> Document::syntax_diagnostics() const {
  ensure_parsed();
  std::vector<Diagnostic> diagnostics;
  if (const size_t bad = find_invalid_utf8((*text_)); bad != std::string::npos) {
    diagnostics.push_back({{static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)},
                           Severity::Error,
                           "invalid-utf8",
                           "the file is not valid UTF-8 (first bad byte at offset " + std::to_string(bad) +
                               "); text format files must be UTF-8",
                           {}});
  }
  if (parse_gave_up_) {
    const uint32_t unclosed = unclosed_brackets((*text_));
    diagnostics.push_back({{0, static_cast<uint32_t>(std::min<size_t>((*text_).size(), line_end(0)))},
                           Severity::Error,
                           "syntax-error",
                           unclosed > kMaxUnclosedBrackets
                               ? "the parser gave up on this text: " + std::to_string(unclosed) +
                                     " brackets are never closed (the limit is " +
                                     std::to_string(kMaxUnclosedBrackets) +
                                     "); fix the nesting to get the file checked"
                               : "the parser gave up on this text: it took too long to recover from its syntax "
                                 "errors (deeply nested unclosed brackets?); fix the nesting to get the file checked",
                           {}});
    return diagnostics;
  }
  TSNode root_node = root();
  if (!ts_node_has_error(root_node)) return diagnostics;

  auto add = [&](ByteRange range, std::string message) {
    diagnostics.push_back({range, Severity::Error, "syntax-error", std::move(message), {}});
  };

  // ts_node_parent() is unreliable for zero-width MISSING nodes in the
  // 0.20 runtime, so the walk below passes the parent it came from.
  auto describe_missing = [&](TSNode node, TSNode parent) {
    const std::string type = ts_node_type(node);
    const uint32_t at = ts_node_start_byte(node);
    const std::string parent_type = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    if (type == "\"" || type == "'") {
      const uint32_t start = ts_node_is_null(parent) ? at : ts_node_start_byte(parent);
      add({start, at}, "unterminated string: a string must end with " + quoted(type) + " on the same line");
      return;
    }
    if (type == "}" || type == ">" || type == "]") {
      // Point at the bracket that is never closed.
      ByteRange open{at, at};
      if (!ts_node_is_null(parent) && ts_node_child_count(parent) > 0)
        open = byte_range_of(ts_node_child(parent, 0));
      std::string owner;
      TSNode field = ts_node_is_null(parent) ? parent : ts_node_parent(parent);
      if (!ts_node_is_null(field) && !std::strcmp(ts_node_type(field), "field")) {
        TSNode name = ts_node_child_by_field_name(field, "name", 4);
        if (!ts_node_is_null(name)) owner = " of " + quoted(text_of(name));
      }
      add(open, quoted(text_of(open)) + owner + " is never closed: expected " + quoted(type));
      return;
    }
    if (type == ":") {
      TSNode name = ts_node_is_null(parent) ? parent : ts_node_child_by_field_name(parent, "name", 4);
      if (!ts_node_is_null(name)) {
        add(byte_range_of(name), "expected ':' after field name " + quoted(text_of(name)));
        return;
      }
    }
    if (type == "identifier" && parent_type == "signed_identifier") {
      add({at, at}, "expected a number or a name after '-'");
      return;
    }
    if (type == "identifier" && (parent_type == "field_name" || parent_type == "type_name")) {
      add({at, at}, "expected a field name");
      return;
    }
    if (parent_type == "field" || type == "identifier") {
      TSNode name = ts_node_is_null(parent) ? parent : ts_node_child_by_field_name(parent, "name", 4);
      if (!ts_node_is_null(name)) {
        add({ts_node_start_byte(name), at}, "expected a value after " + quoted(std::string(text_of(name)) + ":"));
        return;
      }
    }
    add({at, at}, "expected " + quoted(type));
  };

  // `gap_start`: where the previous sibling ended. Characters the lexer
  // skipped before the ERROR node are padding, outside its range.
  auto describe_error = [&](TSNode node, TSNode parent, uint32_t gap_start) {
    const ByteRange whole = byte_range_of(node);
    const std::vector<TSNode> leaves = leaves_of(node);
    const bool in_string = !ts_node_is_null(parent) && !std::strcmp(ts_node_type(parent), "string");
    uint32_t previous_end = std::min(gap_start, whole.start);
    // One extra round after the last leaf, for skipped characters at the end.
    for (size_t i = 0; i <= leaves.size(); ++i) {
      const bool trailing = i == leaves.size();
      TSNode leaf = trailing ? TSNode{} : leaves[i];
      const char* type = trailing ? "" : ts_node_type(leaf);
      ByteRange range = trailing ? ByteRange{whole.end, whole.end} : byte_range_of(leaf);
      // Characters the lexer skipped during recovery are not leaves: find them
      // in the gap before this leaf (whitespace and '#' comments aside).
      bool skipped = false;
      for (uint32_t at = previous_end; at < range.start; ++at) {
        const char c = (*text_)[at];
        if (c == '#') break;
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          uint32_t end = at;
          while (end < range.start && (*text_)[end] != ' ' && (*text_)[end] != '\n' && (*text_)[end] != '\t') ++end;
          range = {at, end};
          skipped = true;
          break;
        }
      }
      if (trailing && !skipped) break;
      if (!trailing) previous_end = ts_node_end_byte(leaf);
      if (skipped || is_error(leaf) || (in_string && i == 0)) {
        // Characters that no token matches.
        uint32_t end = range.end;
        const char first = range.start < (*text_).size() ? (*text_)[range.start] : '\0';
        if (first == '.' && i > 0 && !std::strcmp(ts_node_type(leaves[i - 1]), "integer")) {
          while (end < (*text_).size() && ((*text_)[end] == ' ' || (*text_)[end] == '\t')) ++end;
          while (end < (*text_).size() && (*text_)[end] >= '0' && (*text_)[end] <= '9') ++end;
          const ByteRange number{ts_node_start_byte(leaves[i - 1]), end};
          add(number, "invalid number " + quoted(text_of(number)) + ": a number cannot be broken by spaces");
          return;
        }
        if (in_string && first != '\\') {
          const uint32_t string_start = ts_node_start_byte(parent);
          const uint32_t line_end_at = static_cast<uint32_t>(std::min((*text_).find('\n', string_start), (*text_).size()));
          add({string_start, line_end_at},
              "unterminated string: a string cannot span lines; close it on the same line (use \\n for a newline)");
          return;
        }
        if (in_string || first == '\\') {
          const uint32_t stop = std::min<uint32_t>(range.start + 2, static_cast<uint32_t>((*text_).size()));
          add({range.start, stop}, "invalid escape sequence " + quoted(text_of(ByteRange{range.start, stop})) +
                                       "; valid escapes are \\a \\b \\f \\n \\r \\t \\v \\? \\\\ \\' \\\" "
                                       "\\ooo \\xHH \\uHHHH \\UHHHHHHHH");
          return;
        }
        if ((first >= '0' && first <= '9') || first == '.') {
          while (end < (*text_).size() && (is_word_char((*text_)[end]) ||
                                        (((*text_)[end] == '-' || (*text_)[end] == '+') &&
                                         ((*text_)[end - 1] == 'e' || (*text_)[end - 1] == 'E'))))
            ++end;
          const std::string_view word = text_of(ByteRange{range.start, end});
          std::string reason;
          if (std::count(word.begin(), word.end(), '.') > 1) {
            reason = "a number has at most one '.'";
          } else if (word.size() > 1 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
            reason = "'0x' must be followed by hex digits, and a space before any letter";
          } else if (word.size() > 1 && word[0] == '0' && word[1] >= '0' && word[1] <= '9' &&
                     word.find_first_of("89") != std::string_view::npos) {
            reason = "numbers starting with '0' are octal and cannot contain 8 or 9";
          } else if (word.find_first_of("abcdghijklmnopqrstuvwxyzABCDGHIJKLMNOPQRSTUVWXYZ_") !=
                     std::string_view::npos) {
            reason = "a number must be separated from a following name by a space";
          } else if (!word.empty() && (word.back() == 'e' || word.back() == 'E' || word.back() == '+' ||
                                       word.back() == '-')) {
            reason = "an exponent needs digits";
          } else if (end < (*text_).size() && ((*text_)[end] == ' ' || (*text_)[end] == '\t')) {
            reason = "a number cannot be broken by spaces";
          } else {
            add({range.start, end}, "unexpected number " + quoted(word) + " where a field name or '}' was expected");
            return;
          }
          add({range.start, end}, "invalid number " + quoted(word) + ": " + reason);
          return;
        }
        if (first == '/') {
          add(range, "'/' comments are not text format: comments start with '#'");
          return;
        }
        add(range, "unexpected character " + quoted(text_of(range)));
        return;
      }
      const std::string_view token = skipped ? std::string_view() : std::string_view(type);
      if (token == "." && i > 0 && !std::strcmp(ts_node_type(leaves[i - 1]), "integer")) {
        uint32_t end = range.end;
        while (end < (*text_).size() && ((*text_)[end] == ' ' || (*text_)[end] == '\t')) ++end;
        while (end < (*text_).size() && (*text_)[end] >= '0' && (*text_)[end] <= '9') ++end;
        const ByteRange number{ts_node_start_byte(leaves[i - 1]), end};
        add(number, "invalid number " + quoted(text_of(number)) + ": a number cannot be broken by spaces");
        return;
      }
      if (token == "/" || token == "*") {
        const uint32_t end = std::min<uint32_t>(range.start + 2, static_cast<uint32_t>((*text_).size()));
        add({range.start, end}, "'//' and '/* */' comments are not text format: comments start with '#'");
        return;
      }
      if (token == "}" || token == ">" || token == "]") {
        add(range, "unexpected " + quoted(token) + " with no matching opening bracket");
        return;
      }
      if (token == "," || token == ";") {
        TSNode next = ts_node_next_sibling(node);
        if (!ts_node_is_null(next) && !std::strcmp(ts_node_type(next), "]")) {
          add(range, "a list cannot end with ','");
          return;
        }
      }
      if (is_value_token(type) && i > 0) {
        TSNode previous = leaves[i - 1];
        const std::string_view previous_type = ts_node_type(previous);
        if (previous_type == "identifier" || previous_type == "]") {
          const std::string name = field_name_before(*this, leaves, i);
          add(byte_range_of(previous), "expected ':' after field name " + quoted(name) +
                                           " (a scalar value needs ':'; only messages may omit it)");
          return;
        }
      }
    }
    // Nothing unexpected inside: the text ends before the structure does.
    if (!leaves.empty()) {
      TSNode last = leaves.back();
      const std::string_view last_type = ts_node_type(last);
      if (last_type == ":") {
        const std::string name = field_name_before(*this, leaves, leaves.size() - 1);
        add(byte_range_of(last), "expected a value after " + quoted(name + ":"));
        return;
      }
      // The innermost bracket that is still open.
      std::vector<TSNode> open;
      for (TSNode leaf : leaves) {
        const std::string_view t = ts_node_type(leaf);
        if (t == "{" || t == "<" || t == "[") open.push_back(leaf);
        else if ((t == "}" || t == ">" || t == "]") && !open.empty()) open.pop_back();
      }
      if (!open.empty()) {
        const std::string opener(ts_node_type(open.back()));
        const std::string closer = opener == "{" ? "}" : opener == "<" ? ">" : "]";
        add(byte_range_of(open.back()), quoted(opener) + " is never closed: expected " + quoted(closer));
        return;
      }
      if (last_type == "identifier") {
        add(byte_range_of(last), "expected ':' or '{' after field name " + quoted(text_of(last)));
        return;
      }
    }
    add(whole, "syntax error: unexpected " + quoted(text_of(whole)));
  };

  TSTreeCursor cursor = ts_tree_cursor_new(root_node);
  std::vector<TSNode> ancestors;
  uint32_t gap_start = 0;
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    TSNode parent = ancestors.empty() ? TSNode{} : ancestors.back();
    bool descend = false;
    if (is_error(node)) {
      describe_error(node, parent, gap_start);
    } else if (ts_node_is_missing(node)) {
      describe_missing(node, parent);
    } else {
      descend = ts_node_has_error(node);
      if (descend && !error_in_visible_child(node)) {
        // The error is a hidden token, e.g. the MISSING number literal of
        // `x: ;` (an integer node with no visible children): the cursor
        // cannot reach it, so report it on the node that holds it.
        describe_missing(node, parent);
        descend = false;
      }
    }
    if (descend && ts_tree_cursor_goto_first_child(&cursor)) {
      ancestors.push_back(node);
      gap_start = ts_node_start_byte(node);
      continue;
    }
    gap_start = ts_node_end_byte(node);
    bool moved = false;
    while (!moved) {
      if (ts_tree_cursor_goto_next_sibling(&cursor)) {
        moved = true;
      } else if (ts_tree_cursor_goto_parent(&cursor)) {
        gap_start = ts_node_end_byte(ancestors.back());
        ancestors.pop_back();
      } else {
        ts_tree_cursor_delete(&cursor);
        std::stable_sort(diagnostics.begin(), diagnostics.end(),
                         [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
        return diagnostics;
      }
    }
  }
}

}  // namespace amct::syntax
