#include "core/ide/cursor_context.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/syntax/walk.h"

namespace amct::ide {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

std::string_view node_type(TSNode node) { return ts_node_type(node); }

// The name of the field that owns a `message` or `message_list` node.
std::string owner_name(const syntax::Document& document, TSNode container) {
  TSNode parent = ts_node_parent(container);
  if (!ts_node_is_null(parent) && node_type(parent) == "message_list") parent = ts_node_parent(parent);
  if (ts_node_is_null(parent) || node_type(parent) != "field") return {};
  TSNode name = ts_node_child_by_field_name(parent, "name", 4);
  return ts_node_is_null(name) ? std::string() : std::string(document.text_of(name));
}

void add_unique(std::vector<std::string>& names, std::string name) {
  if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
}

}  // namespace

CursorContext cursor_context(const syntax::Document& document, uint32_t offset,
                             const google::protobuf::Descriptor* root_type) {
  const std::string& text = document.text();
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text.size()));
  CursorContext context;

  // The word being typed: identifier characters, and a string's opening quote.
  uint32_t start = offset;
  while (start > 0 && is_word_char(text[start - 1])) --start;
  if (start > 0 && (text[start - 1] == '"' || text[start - 1] == '\'')) --start;
  uint32_t end = offset;
  while (end < text.size() && is_word_char(text[end])) ++end;
  if (end < text.size() && start < offset && (text[end] == '"' || text[end] == '\'') && text[start] == text[end]) ++end;
  context.word = {start, end};
  context.prefix = text.substr(start, offset - start);

  // Headers and comments are decided by the line alone.
  const syntax::Position position = document.position_at(start, syntax::PositionEncoding::Utf8);
  const uint32_t line_start = document.line_start(position.line);
  const std::string_view before(text.data() + line_start, start - line_start);
  const size_t first = before.find_first_not_of(" \t");
  if (first != std::string_view::npos && before[first] == '#') {
    std::string_view rest = before.substr(first + 1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    const size_t colon = rest.find(':');
    std::string_view after_colon = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    const bool only_spaces = after_colon.find_first_not_of(" \t") == std::string_view::npos;
    if (colon != std::string_view::npos && only_spaces) {
      const std::string key(rest.substr(0, colon));
      static constexpr const char* kKeys[] = {"proto-file", "proto-message", "proto-import", "soc", "amct-api"};
      if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; }) != std::end(kKeys)) {
        context.kind = CursorContext::Kind::HeaderValue;
        context.header_key = key;
        context.word = {start, static_cast<uint32_t>(document.line_end(position.line))};
        return context;
      }
    }
    context.kind = CursorContext::Kind::Comment;
    return context;
  }
  {
    // A '#' earlier on the line, outside a string, makes the rest a comment.
    char quote = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      const char c = before[i];
      if (quote) {
        if (c == '\\') ++i;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        context.kind = CursorContext::Kind::Comment;
        return context;
      }
    }
  }

  // Value or name: what precedes the word (across lines).
  int64_t back = static_cast<int64_t>(start) - 1;
  auto skip_space = [&] {
    while (back >= 0 && (text[back] == ' ' || text[back] == '\t' || text[back] == '\n' || text[back] == '\r')) --back;
  };
  skip_space();
  bool value = false;
  if (back >= 0 && (text[back] == '[' || text[back] == ',')) {
    // Inside a scalar list on this line: `name: [a, b, |`.
    int64_t scan = back;
    while (scan >= 0 && text[scan] != '[' && text[scan] != '\n' && text[scan] != ':' && text[scan] != '{') --scan;
    if (scan >= 0 && text[scan] == '[') {
      back = scan - 1;
      skip_space();
    }
  }
  if (back >= 0 && text[back] == ':') {
    value = true;
    --back;
    skip_space();
    const int64_t name_end = back + 1;
    while (back >= 0 && (is_word_char(text[back]) && text[back] != '-' && text[back] != '.')) --back;
    context.field_name = text.substr(back + 1, name_end - (back + 1));
  }
  context.kind = value ? CursorContext::Kind::FieldValue : CursorContext::Kind::FieldName;

  // Enclosing blocks: ancestors of the cursor, outermost first.
  const uint32_t anchor = start;
  TSNode node = ts_node_descendant_for_byte_range(document.root(), anchor, anchor);
  std::vector<TSNode> ancestors;
  for (TSNode n = node; !ts_node_is_null(n); n = ts_node_parent(n)) ancestors.push_back(n);
  std::reverse(ancestors.begin(), ancestors.end());
  TSNode container = document.root();  // innermost block holding the cursor
  bool scanned_error = false;
  // Bracket scan over an ERROR's tokens before the cursor.
  auto scan_error = [&](TSNode error) {
    std::vector<std::string> stack;
    std::vector<std::vector<std::string>> names_at_depth(1);
    std::string last_name, list_owner;
    syntax::walk(error, [&](TSNode n, uint32_t) {
      if (ts_node_start_byte(n) >= anchor) return syntax::Walk::Skip;
      const std::string_view t = node_type(n);
      if (t == "field_name") {
        last_name = std::string(document.text_of(n));
        names_at_depth.back().push_back(last_name);
        return syntax::Walk::Skip;
      }
      if (t == "{" || t == "<") {
        stack.push_back(list_owner.empty() ? last_name : list_owner);
        names_at_depth.emplace_back();
      } else if ((t == "}" || t == ">") && !stack.empty()) {
        stack.pop_back();
        names_at_depth.pop_back();
      } else if (t == "[") {
        list_owner = last_name;
      } else if (t == "]") {
        list_owner.clear();
      }
      return syntax::Walk::Descend;
    });
    context.path.insert(context.path.end(), stack.begin(), stack.end());
    for (auto& name : names_at_depth.back()) add_unique(context.set_fields, name);
    scanned_error = true;
  };
  for (TSNode ancestor : ancestors) {
    const std::string_view type = node_type(ancestor);
    if (type == "message") {
      const uint32_t open_end = ts_node_start_byte(ancestor) + 1;
      const bool closed = ts_node_end_byte(ancestor) > open_end &&
                          (text[ts_node_end_byte(ancestor) - 1] == '}' || text[ts_node_end_byte(ancestor) - 1] == '>');
      if (anchor >= open_end && (!closed || anchor < ts_node_end_byte(ancestor))) {
        context.path.push_back(owner_name(document, ancestor));
        container = ancestor;
      }
    } else if (ts_node_symbol(ancestor) == static_cast<TSSymbol>(-1)) {
      scan_error(ancestor);
      break;  // the scan covered everything inside the ERROR
    }
  }
  if (!scanned_error) {
    // Unclosed blocks end before the cursor (the blanks after them are outside
    // every node): follow the last node before the cursor into blocks whose
    // closing bracket is MISSING, and into an ERROR that ends before it.
    TSNode current = container;
    for (;;) {
      TSNode last_before{};
      const uint32_t count = ts_node_child_count(current);
      for (uint32_t i = 0; i < count; ++i) {
        TSNode child = ts_node_child(current, i);
        if (ts_node_end_byte(child) > anchor) break;
        last_before = child;
      }
      if (ts_node_is_null(last_before)) break;
      if (ts_node_symbol(last_before) == static_cast<TSSymbol>(-1)) {
        scan_error(last_before);
        break;
      }
      if (node_type(last_before) != "field") break;
      TSNode value = ts_node_child_by_field_name(last_before, "value", 5);
      if (ts_node_is_null(value) || node_type(value) != "message") break;
      const uint32_t value_children = ts_node_child_count(value);
      if (value_children == 0 || !ts_node_is_missing(ts_node_child(value, value_children - 1))) break;
      context.path.push_back(owner_name(document, value));
      container = current = value;
    }
  }
  if (!scanned_error) {
    const uint32_t count = ts_node_named_child_count(container);
    for (uint32_t i = 0; i < count; ++i) {
      TSNode child = ts_node_named_child(container, i);
      if (node_type(child) != "field") continue;
      TSNode name = ts_node_child_by_field_name(child, "name", 4);
      if (ts_node_is_null(name)) continue;
      const ByteRange name_range = syntax::byte_range_of(name);
      if (name_range.start <= offset && offset <= name_range.end) continue;  // the word being typed
      add_unique(context.set_fields, std::string(document.text_of(name)));
    }
  }

  // Resolve the path through the schema.
  const google::protobuf::Descriptor* message = root_type;
  for (const std::string& name : context.path) {
    if (!message) break;
    const google::protobuf::FieldDescriptor* field = message->FindFieldByName(name);
    message = field ? field->message_type() : nullptr;
  }
  context.message = message;
  if (value && message) context.field = message->FindFieldByName(context.field_name);
  return context;
}

}  // namespace amct::ide
