#include "core/ide/formatting.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace amct::ide {
namespace {

constexpr size_t kMaxLineWidth = 100;   // a scalar list longer than this goes one element per line
constexpr uint32_t kMaxIndentLevels = 64;
constexpr uint32_t kMaxTabSize = 16;

bool is(TSNode node, const char* type) { return std::strcmp(ts_node_type(node), type) == 0; }

bool is_comment(TSNode node) { return is(node, "comment") || is(node, "header"); }

struct Spacing {
  enum Kind { None, Space, Line };
  Kind kind = None;
  uint32_t depth = 0;        // Line: indentation level
  bool allow_blank = false;  // Line: keep one blank line if the source had one or more

  static Spacing none() { return {None, 0, false}; }
  static Spacing space() { return {Space, 0, false}; }
  static Spacing line(uint32_t depth, bool allow_blank = false) { return {Line, depth, allow_blank}; }
};

// Where one source token went in the output; `dropped` tokens (separators,
// a ':' before a message) went nowhere.
struct TokenSpan {
  uint32_t source_start = 0;
  uint32_t source_end = 0;
  uint32_t out_start = 0;
  uint32_t out_end = 0;
  bool dropped = false;
};

struct PrintOptions {
  FormattingOptions formatting;
  bool normalize_angle_brackets = true;  // off for range formatting: `<` and `>` may lie on either side of the range
};

struct Printed {
  std::string text;
  std::vector<TokenSpan> tokens;  // in source order
};

// Walks the tree with one cursor and an explicit context stack (documents may
// nest 10,000 deep), writing the canonical layout token by token.
class Printer {
 public:
  Printer(std::string_view source, const PrintOptions& options) : source_(source), options_(options) {
    // The line ending of the first line with content: leading blank lines
    // are dropped, so an output formatted again sees that same line first
    // (fuzz finding: "\n#soc:\r\n#" flipped from LF to CRLF on a second pass).
    const size_t content = source.find_first_not_of(" \t\r\n\f\v");
    const size_t first_newline = content == std::string_view::npos ? source.find('\n') : source.find('\n', content);
    if (first_newline != std::string_view::npos && first_newline > 0 && source[first_newline - 1] == '\r')
      newline_ = "\r\n";
    tab_size_ = std::min(options.formatting.tab_size, kMaxTabSize);
  }

  Printed run(TSNode root) {
    TSTreeCursor cursor = ts_tree_cursor_new(root);
    uint32_t cursor_depth = 0;
    Context source_file;  // the top level: a block without braces
    source_file.kind = Context::Block;
    stack_.push_back(source_file);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      cursor_depth = 1;
      for (;;) {
        const TSNode node = ts_tree_cursor_current_node(&cursor);
        if (enter(node, cursor_depth)) {
          if (ts_tree_cursor_goto_first_child(&cursor)) {
            ++cursor_depth;
            continue;
          }
          leave(node, cursor_depth);
        } else {
          child_done(node);
        }
        bool finished = false;
        while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
          if (!ts_tree_cursor_goto_parent(&cursor) || cursor_depth == 1) {
            finished = true;
            break;
          }
          --cursor_depth;
          leave(ts_tree_cursor_current_node(&cursor), cursor_depth);
        }
        if (finished) break;
      }
    }
    ts_tree_cursor_delete(&cursor);
    trim_trailing_whitespace();
    if (!out_.empty()) out_ += newline_;
    return {std::move(out_), std::move(tokens_)};
  }

 private:
  struct Context {
    enum Kind { Block, Field, List, Atom, Concat };
    Kind kind = Block;
    uint32_t cursor_depth = 0;  // depth of the node that opened this context
    uint32_t depth = 0;         // Block: inner level; Field, List: the field's level; Atom, Concat: continuation level
    // Block
    uint32_t brace_depth = 0;
    Spacing open_spacing;
    bool has_items = false;  // Block, List: an item was written (blank lines allowed before the next)
    // Field
    bool started = false;
    bool allow_blank = false;
    bool keep_colon = true;
    bool value_seen = false;
    // List
    bool one_line = false;
    uint32_t count = 0;
    uint32_t index = 0;
    int64_t comma_out = -1;  // output offset of the ',' written for the next source ',' token
    // Atom, Concat
    Spacing first_spacing;
    bool emitted = false;
  };

  // --- output primitives

  void trim_trailing_whitespace() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
  }

  void indent(uint32_t depth) {
    depth = std::min(depth, kMaxIndentLevels);
    if (options_.formatting.insert_spaces)
      out_.append(static_cast<size_t>(depth) * tab_size_, ' ');
    else
      out_.append(depth, '\t');
  }

  uint32_t indent_width(uint32_t depth) const {
    return std::min(depth, kMaxIndentLevels) * (options_.formatting.insert_spaces ? tab_size_ : std::max(tab_size_, 1u));
  }

  size_t current_line_width() const {
    size_t width = 0;
    for (size_t i = line_start_; i < out_.size(); ++i)
      width += out_[i] == '\t' ? std::max(tab_size_, 1u) : 1;
    return width;
  }

  uint32_t newlines_between(uint32_t start, uint32_t end) const {
    uint32_t count = 0;
    for (uint32_t i = start; i < end && i < source_.size(); ++i) count += source_[i] == '\n';
    return count;
  }

  void start_line(uint32_t depth, bool blank_line_before) {
    trim_trailing_whitespace();
    if (!out_.empty()) {
      out_ += newline_;
      if (blank_line_before) out_ += newline_;
    }
    line_start_ = out_.size();
    indent(depth);
  }

  // Positions the output for a token starting at `source_start`; after a
  // comment the token must start a line (at `continuation_depth` unless the
  // spacing asks for a line anyway).
  void place(Spacing spacing, uint32_t continuation_depth, uint32_t source_start) {
    if (spacing.kind == Spacing::Line) {
      start_line(spacing.depth, spacing.allow_blank && newlines_between(prev_end_, source_start) >= 2);
    } else if (pending_newline_) {
      start_line(continuation_depth, false);
    } else if (spacing.kind == Spacing::Space && !out_.empty()) {
      out_ += ' ';
    }
    pending_newline_ = false;
  }

  void emit(TSNode node, std::string_view text, Spacing spacing, uint32_t continuation_depth) {
    const uint32_t start = ts_node_start_byte(node);
    place(spacing, continuation_depth, start);
    const uint32_t out_start = static_cast<uint32_t>(out_.size());
    out_.append(text);
    tokens_.push_back({start, ts_node_end_byte(node), out_start, static_cast<uint32_t>(out_.size()), false});
    prev_end_ = ts_node_end_byte(node);
  }

  void emit_verbatim(TSNode node, Spacing spacing, uint32_t continuation_depth) {
    emit(node, text_of(node), spacing, continuation_depth);
  }

  void drop(TSNode node) {
    const uint32_t at = static_cast<uint32_t>(out_.size());
    tokens_.push_back({ts_node_start_byte(node), ts_node_end_byte(node), at, at, true});
    // prev_end_ stays at the last written token: line breaks and blank lines
    // are judged between written tokens, so they do not depend on whether a
    // separator (dropped here, perhaps kept by a range format) is present.
  }

  // A comment on the same source line as the previous token stays there
  // after one space; any other starts its own line at `depth`.
  void emit_comment(TSNode node, uint32_t depth, bool allow_blank) {
    const uint32_t start = ts_node_start_byte(node);
    const bool trailing = !out_.empty() && !pending_newline_ && newlines_between(prev_end_, start) == 0;
    if (trailing) {
      out_ += ' ';
    } else {
      start_line(depth, allow_blank && newlines_between(prev_end_, start) >= 2);
    }
    std::string_view text = text_of(node);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
      text.remove_suffix(1);
    const uint32_t out_start = static_cast<uint32_t>(out_.size());
    out_.append(text);
    tokens_.push_back({start, ts_node_end_byte(node), out_start, static_cast<uint32_t>(out_.size()), false});
    prev_end_ = ts_node_end_byte(node);
    pending_newline_ = true;
  }

  std::string_view text_of(TSNode node) const {
    const uint32_t start = ts_node_start_byte(node);
    const uint32_t end = ts_node_end_byte(node);
    if (start >= source_.size() || end <= start) return {};
    return source_.substr(start, std::min<size_t>(end, source_.size()) - start);
  }

  // --- contexts

  Context& top() { return stack_.back(); }

  void push(Context::Kind kind, uint32_t cursor_depth, uint32_t depth, Context context) {
    context.kind = kind;
    context.cursor_depth = cursor_depth;
    context.depth = depth;
    stack_.push_back(context);
  }

  // Width of `node` written on one line, or nullopt if it cannot be (a
  // comment or a line break inside). Mirrors how Atom and Concat write it.
  std::optional<size_t> one_line_width(TSNode node) const {
    if (is(node, "string")) return text_of(node).size();
    if (is(node, "concatenated_string")) {
      size_t width = 0;
      const uint32_t count = ts_node_child_count(node);
      for (uint32_t i = 0; i < count; ++i) {
        const TSNode part = ts_node_child(node, i);
        if (!is(part, "string")) return std::nullopt;
        if (i > 0) {
          if (newlines_between(ts_node_end_byte(ts_node_child(node, i - 1)), ts_node_start_byte(part)) > 0)
            return std::nullopt;
          width += 1;
        }
        width += text_of(part).size();
      }
      return width;
    }
    // Numbers and signed identifiers are copied as written.
    const std::string_view text = text_of(node);
    if (text.find('\n') != std::string_view::npos) return std::nullopt;
    return text.size();
  }

  void open_list(TSNode list, uint32_t cursor_depth, uint32_t field_depth) {
    Context context;
    const bool is_message_list = is(list, "message_list");
    bool fits = true;
    size_t width = 0;
    TSTreeCursor cursor = ts_tree_cursor_new(list);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      do {
        const TSNode child = ts_tree_cursor_current_node(&cursor);
        if (is(child, "[") || is(child, "]") || is(child, ",")) continue;
        if (is_comment(child) || is(child, "message")) {
          fits = false;
          if (is_comment(child)) continue;
        }
        ++context.count;
        if (!is_message_list) {
          if (const auto element = one_line_width(child))
            width += *element;
          else
            fits = false;
        }
      } while (ts_tree_cursor_goto_next_sibling(&cursor));
    }
    ts_tree_cursor_delete(&cursor);
    if (fits) {
      // The '[' goes after one space, or at a continuation line's start after a comment.
      const size_t before = pending_newline_ ? indent_width(field_depth + 1) : current_line_width() + 1;
      width += before + 2 + (context.count > 1 ? 2 * (context.count - 1) : 0);
      fits = width <= kMaxLineWidth;
    }
    context.one_line = fits;
    push(Context::List, cursor_depth, field_depth, context);
  }

  // Called before descending into `node` (a child of the top context's
  // node). Returns whether to descend into its children.
  bool enter(TSNode node, uint32_t cursor_depth) {
    Context& context = top();
    switch (context.kind) {
      case Context::Block: return enter_block_child(context, node, cursor_depth);
      case Context::Field: return enter_field_child(context, node, cursor_depth);
      case Context::List: return enter_list_child(context, node, cursor_depth);
      case Context::Atom: return enter_atom_child(context, node);
      case Context::Concat: return enter_concat_child(context, node);
    }
    return false;
  }

  bool enter_block_child(Context& block, TSNode node, uint32_t cursor_depth) {
    if (is(node, "{") || is(node, "<")) {
      const std::string_view text = options_.normalize_angle_brackets ? std::string_view("{") : text_of(node);
      emit(node, text, block.open_spacing, block.brace_depth + 1);
      return false;
    }
    if (is(node, "}") || is(node, ">")) {
      const std::string_view text = options_.normalize_angle_brackets ? std::string_view("}") : text_of(node);
      const bool empty = !block.has_items && !pending_newline_;
      emit(node, text, empty ? Spacing::none() : Spacing::line(block.brace_depth), block.brace_depth);
      return false;
    }
    if (is(node, "field")) {
      Context field;
      field.allow_blank = block.has_items;
      field.keep_colon = keeps_colon(node);
      block.has_items = true;
      push(Context::Field, cursor_depth, block.depth, field);
      return true;
    }
    if (is_comment(node)) {
      emit_comment(node, block.depth, block.has_items);
      block.has_items = true;
      return false;
    }
    // Not produced by an error-free tree; copy it rather than lose it.
    emit_verbatim(node, Spacing::line(block.depth, block.has_items), block.depth + 1);
    block.has_items = true;
    return false;
  }

  // A ':' before a message is optional and dropped; before a message list it
  // is kept as written (`name: []` is the only empty list of a scalar field).
  bool keeps_colon(TSNode field) const {
    const TSNode value = ts_node_child_by_field_name(field, "value", 5);
    return ts_node_is_null(value) || !is(value, "message");
  }

  bool enter_field_child(Context& field, TSNode node, uint32_t cursor_depth) {
    const uint32_t continuation = field.depth + 1;
    if (is_comment(node)) {
      if (!field.started)
        emit_comment(node, field.depth, field.allow_blank);
      else if (field.value_seen)
        // Between the value and a separator: once the separator is dropped
        // the comment follows the field in its block, so print it as such.
        emit_comment(node, field.depth, true);
      else
        emit_comment(node, continuation, false);
      return false;
    }
    if (is(node, "field_name")) {
      field.started = true;
      if (text_of(node).find('\n') == std::string_view::npos) {
        emit_verbatim(node, Spacing::line(field.depth, field.allow_blank), continuation);
        return false;
      }
      // `[pkg.\n ext]` with a line break (perhaps a comment) inside: leaf by leaf.
      Context atom;
      atom.first_spacing = Spacing::line(field.depth, field.allow_blank);
      push(Context::Atom, cursor_depth, continuation, atom);
      return true;
    }
    if (is(node, ":")) {
      if (field.keep_colon)
        emit(node, ":", Spacing::none(), continuation);
      else
        drop(node);
      return false;
    }
    if (is(node, ",") || is(node, ";")) {
      drop(node);
      return false;
    }
    field.value_seen = true;
    if (is(node, "message")) {
      Context block;
      block.brace_depth = field.depth;
      block.open_spacing = Spacing::space();
      push(Context::Block, cursor_depth, field.depth + 1, block);
      return true;
    }
    if (is(node, "scalar_list") || is(node, "message_list")) {
      open_list(node, cursor_depth, field.depth);
      return true;
    }
    return enter_value(node, cursor_depth, Spacing::space(), continuation);
  }

  // A scalar value (or anything unexpected) written with `spacing` before it.
  bool enter_value(TSNode node, uint32_t cursor_depth, Spacing spacing, uint32_t continuation) {
    // Strings, numbers (whose digits are a hidden token, not a child) and
    // identifiers are copied byte for byte, whatever they contain.
    if (!is(node, "concatenated_string")) {
      emit_verbatim(node, spacing, continuation);
      return false;
    }
    Context concat;
    concat.first_spacing = spacing;
    push(Context::Concat, cursor_depth, continuation, concat);
    return true;
  }

  bool enter_list_child(Context& list, TSNode node, uint32_t cursor_depth) {
    const uint32_t element_depth = list.depth + 1;
    if (is(node, "[")) {
      emit(node, "[", Spacing::space(), element_depth);
      return false;
    }
    if (is(node, "]")) {
      emit(node, "]", list.one_line ? Spacing::none() : Spacing::line(list.depth), list.depth);
      return false;
    }
    if (is(node, ",")) {
      // The ',' was written right after the element it follows (before any
      // comment between them), see child_done().
      if (list.comma_out >= 0) {
        const auto at = static_cast<uint32_t>(list.comma_out);
        tokens_.push_back({ts_node_start_byte(node), ts_node_end_byte(node), at, at + 1, false});
        prev_end_ = std::max(prev_end_, ts_node_end_byte(node));
        list.comma_out = -1;
      } else {
        drop(node);
      }
      return false;
    }
    if (is_comment(node)) {
      emit_comment(node, element_depth, list.has_items);
      list.has_items = true;
      return false;
    }
    const Spacing spacing = list.one_line ? (list.index == 0 ? Spacing::none() : Spacing::space())
                                          : Spacing::line(element_depth, list.has_items);
    list.has_items = true;
    if (is(node, "message")) {
      Context block;
      block.brace_depth = element_depth;
      block.open_spacing = spacing;
      push(Context::Block, cursor_depth, element_depth + 1, block);
      return true;
    }
    return enter_value(node, cursor_depth, spacing, element_depth + 1);
  }

  bool enter_atom_child(Context& atom, TSNode node) {
    if (is_comment(node)) {
      emit_comment(node, atom.depth, false);
      return false;
    }
    if (is(node, "string") || ts_node_child_count(node) == 0) {
      const Spacing spacing = !atom.emitted ? atom.first_spacing
                              : prev_end_ == ts_node_start_byte(node) ? Spacing::none()
                                                                       : Spacing::space();
      atom.emitted = true;
      emit_verbatim(node, spacing, atom.depth);
      return false;
    }
    return true;  // extension_name, type_name, …: their leaves belong to this atom
  }

  bool enter_concat_child(Context& concat, TSNode node) {
    if (is_comment(node)) {
      emit_comment(node, concat.depth, false);
      return false;
    }
    Spacing spacing = concat.first_spacing;
    if (concat.emitted)
      spacing = newlines_between(prev_end_, ts_node_start_byte(node)) > 0 ? Spacing::line(concat.depth)
                                                                           : Spacing::space();
    concat.emitted = true;
    emit_verbatim(node, spacing, concat.depth);
    return false;
  }

  // After the whole subtree of `node` (a child of the top context) was written.
  void child_done(TSNode node) {
    Context& list = top();
    if (list.kind != Context::List) return;
    if (is(node, "[") || is(node, "]") || is(node, ",") || is_comment(node)) return;
    ++list.index;
    if (list.index < list.count) {
      list.comma_out = static_cast<int64_t>(out_.size());
      out_ += ',';
    }
  }

  void leave(TSNode node, uint32_t cursor_depth) {
    if (stack_.size() > 1 && top().cursor_depth == cursor_depth) stack_.pop_back();
    child_done(node);
  }

  std::string_view source_;
  PrintOptions options_;
  uint32_t tab_size_ = 4;
  std::string_view newline_ = "\n";  // or "\r\n", a literal
  std::vector<Context> stack_;
  std::string out_;
  std::vector<TokenSpan> tokens_;
  size_t line_start_ = 0;
  uint32_t prev_end_ = 0;
  bool pending_newline_ = false;
};

Printed print(const syntax::Document& document, const PrintOptions& options) {
  return Printer(document.text(), options).run(document.root());
}

// One edit replacing `old_text` (at `offset` in the document) by
// `new_text`, narrowed to the lines that differ; none if they are equal.
std::vector<TextEdit> line_diff_edit(std::string_view old_text, uint32_t offset, std::string_view new_text) {
  if (old_text == new_text) return {};
  // Common prefix of whole lines.
  const size_t limit = std::min(old_text.size(), new_text.size());
  size_t prefix = 0;
  for (size_t i = 0; i < limit && old_text[i] == new_text[i]; ++i)
    if (old_text[i] == '\n') prefix = i + 1;
  // Common suffix of whole lines, not overlapping the prefix.
  size_t common = 0;
  while (common < limit - prefix &&
         old_text[old_text.size() - 1 - common] == new_text[new_text.size() - 1 - common])
    ++common;
  auto starts_line = [&](std::string_view text, size_t at) { return at == prefix || text[at - 1] == '\n'; };
  size_t suffix = common;
  while (suffix > 0 &&
         !(starts_line(old_text, old_text.size() - suffix) && starts_line(new_text, new_text.size() - suffix)))
    --suffix;
  TextEdit edit;
  edit.range = {offset + static_cast<uint32_t>(prefix), offset + static_cast<uint32_t>(old_text.size() - suffix)};
  edit.new_text = std::string(new_text.substr(prefix, new_text.size() - suffix - prefix));
  return {std::move(edit)};
}

uint32_t line_of(const syntax::Document& document, uint32_t offset) {
  // The line index is private to Document; line_start() is monotonic, so bisect it.
  uint32_t low = 0;
  uint32_t high = document.line_count();  // answer in [low, high)
  while (high - low > 1) {
    const uint32_t middle = low + (high - low) / 2;
    if (document.line_start(middle) <= offset)
      low = middle;
    else
      high = middle;
  }
  return low;
}

// Whether formatting is safe: a whole tree, no syntax errors, and no header comment whose
// line goes on after a lone '\r'. The header scanner ends a header there,
// but protobuf's tokenizer ends comments only at '\n', so what follows is a
// comment to AMCT and a field to the tree; a line break would change that.
bool formattable(const syntax::Document& document) {
  const TSNode root = document.root();
  if (ts_node_has_error(root)) return false;
  const std::string& text = document.text();
  // A parse that gave up (its wall-clock budget ran out, or too many unclosed
  // brackets) leaves the tree of an empty text, without errors: printing it
  // would delete the whole document (fuzz finding, on a starved CPU). A real
  // parse of a text with anything but blanks has children (or errors).
  if (ts_node_child_count(root) == 0 && text.find_first_not_of(" \t\r\n\f\v") != std::string::npos)
    return false;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  bool safe = true;
  if (ts_tree_cursor_goto_first_child(&cursor)) {
    do {
      const TSNode node = ts_tree_cursor_current_node(&cursor);
      if (!is(node, "header")) continue;
      for (size_t i = ts_node_end_byte(node); i < text.size() && text[i] != '\n'; ++i)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\f' && text[i] != '\v') safe = false;
    } while (safe && ts_tree_cursor_goto_next_sibling(&cursor));
  }
  ts_tree_cursor_delete(&cursor);
  return safe;
}

}  // namespace

std::optional<std::string> formatted_text(const syntax::Document& document, const FormattingOptions& options) {
  if (!formattable(document)) return std::nullopt;
  PrintOptions print_options;
  print_options.formatting = options;
  return print(document, print_options).text;
}

std::vector<TextEdit> format_document(const syntax::Document& document, const FormattingOptions& options) {
  const auto formatted = formatted_text(document, options);
  if (!formatted) return {};
  return line_diff_edit(document.text(), 0, *formatted);
}

std::vector<TextEdit> format_range(const syntax::Document& document, ByteRange range,
                                   const FormattingOptions& options) {
  if (!formattable(document)) return {};
  const std::string& text = document.text();
  range.start = std::min<uint32_t>(range.start, static_cast<uint32_t>(text.size()));
  range.end = std::clamp<uint32_t>(range.end, range.start, static_cast<uint32_t>(text.size()));

  PrintOptions print_options;
  print_options.formatting = options;
  print_options.normalize_angle_brackets = false;
  const Printed printed = print(document, print_options);
  const std::vector<TokenSpan>& tokens = printed.tokens;
  const std::string& out = printed.text;

  // Written (not dropped) tokens only: the before/after bounds of their output.
  std::vector<size_t> written;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!tokens[i].dropped) written.push_back(i);
  if (written.empty()) return {};
  std::vector<uint32_t> max_end_before(written.size() + 1, 0);  // over written[0, i)
  for (size_t i = 0; i < written.size(); ++i)
    max_end_before[i + 1] = std::max(max_end_before[i], tokens[written[i]].out_end);
  std::vector<uint32_t> min_start_from(written.size() + 1, std::numeric_limits<uint32_t>::max());  // over written[i, n)
  for (size_t i = written.size(); i-- > 0;)
    min_start_from[i] = std::min(min_start_from[i + 1], tokens[written[i]].out_start);

  std::vector<uint32_t> max_source_end_before(written.size() + 1, 0);  // over written[0, i)
  for (size_t i = 0; i < written.size(); ++i)
    max_source_end_before[i + 1] = std::max(max_source_end_before[i], tokens[written[i]].source_end);

  uint32_t first_line = line_of(document, range.start);
  uint32_t last_line = line_of(document, range.end);
  if (range.end > range.start && last_line > first_line && document.line_start(last_line) == range.end) --last_line;

  auto out_line_begin = [&](uint32_t at) {
    const size_t newline = at == 0 ? std::string::npos : out.rfind('\n', at - 1);
    return newline == std::string::npos ? 0u : static_cast<uint32_t>(newline + 1);
  };
  auto out_line_end = [&](uint32_t at) {
    const size_t newline = out.find('\n', at);
    return newline == std::string::npos ? static_cast<uint32_t>(out.size()) : static_cast<uint32_t>(newline);
  };
  auto blank = [&](uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; ++i)
      if (out[i] != ' ' && out[i] != '\t' && out[i] != '\r') return false;
    return true;
  };

  // Shrink the lines until the tokens on them own whole output lines.
  while (first_line <= last_line) {
    const uint32_t begin = document.line_start(first_line);
    const uint32_t end = document.line_end(last_line);
    const auto lo = std::lower_bound(written.begin(), written.end(), begin,
                                     [&](size_t i, uint32_t at) { return tokens[i].source_start < at; });
    const auto hi = std::lower_bound(lo, written.end(), end + 1,
                                     [&](size_t i, uint32_t at) { return tokens[i].source_start < at; });
    if (lo == hi) return {};
    const size_t lo_index = static_cast<size_t>(lo - written.begin());
    const size_t hi_index = static_cast<size_t>(hi - written.begin());
    uint32_t out_begin = std::numeric_limits<uint32_t>::max();
    uint32_t out_end = 0;
    for (size_t i = lo_index; i < hi_index; ++i) {
      out_begin = std::min(out_begin, tokens[written[i]].out_start);
      out_end = std::max(out_end, tokens[written[i]].out_end);
    }
    if (max_source_end_before[lo_index] > begin) {  // a token from before runs into the first line
      first_line = line_of(document, max_source_end_before[lo_index]) + 1;
      continue;
    }
    const uint32_t region_begin = out_line_begin(out_begin);
    const uint32_t region_end = out_line_end(out_end);
    const uint32_t source_first_line = line_of(document, tokens[*lo].source_start);
    // A token may span lines (a header whose value follows a comment, a
    // number with a comment after its '-'): the region ends after the last.
    uint32_t source_end_offset = 0;
    for (size_t i = lo_index; i < hi_index; ++i)
      source_end_offset = std::max(source_end_offset, tokens[written[i]].source_end);
    const uint32_t source_last_line = line_of(document, tokens[*(hi - 1)].source_start);
    if (source_end_offset > end) {  // runs past the requested lines
      if (source_last_line == 0 || source_last_line <= first_line) return {};
      last_line = source_last_line - 1;
      continue;
    }
    const uint32_t source_region_last_line = line_of(document, source_end_offset);
    if (!blank(region_begin, out_begin) || max_end_before[lo_index] > region_begin) {
      first_line = source_first_line + 1;
      continue;
    }
    if (!blank(out_end, region_end) || min_start_from[hi_index] < region_end) {
      if (source_last_line == 0) return {};
      last_line = source_last_line - 1;
      continue;
    }
    const uint32_t source_begin = document.line_start(source_first_line);
    uint32_t source_end = document.line_end(source_region_last_line);
    // Line endings stay as they are at the region's end: the output's last
    // line ends before its "\r\n", so the source's does too.
    uint32_t output_end = region_end;
    if (output_end > out_end && out[output_end - 1] == '\r' && output_end < out.size()) {
      --output_end;
      if (source_end < text.size() && source_end > source_begin && text[source_end - 1] == '\r') --source_end;
    }
    return line_diff_edit(std::string_view(text).substr(source_begin, source_end - source_begin), source_begin,
                          std::string_view(out).substr(region_begin, output_end - region_begin));
  }
  return {};
}

std::string apply_edits(std::string_view text, std::vector<TextEdit> edits) {
  std::sort(edits.begin(), edits.end(), [](const TextEdit& a, const TextEdit& b) { return a.range.start < b.range.start; });
  std::string result;
  size_t at = 0;
  for (const TextEdit& edit : edits) {
    const size_t start = std::clamp<size_t>(edit.range.start, at, text.size());
    result.append(text.substr(at, start - at));
    result.append(edit.new_text);
    at = std::clamp<size_t>(edit.range.end, start, text.size());
  }
  result.append(text.substr(at));
  return result;
}

}  // namespace amct::ide
