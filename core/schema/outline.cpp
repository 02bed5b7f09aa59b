// The Document-facing half of binding.h: what binding needs from the tree.
#include <cstring>
#include <unordered_set>

#include "core/schema/binding.h"
#include "core/syntax/document.h"
#include "core/text_util.h"

namespace amct::schema {

namespace {

// "# proto-file:" -> "proto-file"
std::string header_key_name(std::string_view key_text) {
  if (!key_text.empty() && key_text.front() == '#') key_text.remove_prefix(1);
  if (!key_text.empty() && key_text.back() == ':') key_text.remove_suffix(1);
  return std::string(trim(key_text));
}

void outline_children(const syntax::Document& document, TSNode parent, DocumentOutline& outline,
                      std::unordered_set<std::string_view>& seen, bool inside_error) {
  // Inside an ERROR node tree-sitter flattens what it could not nest: count
  // brackets so only names at the top level count.
  // A cursor, not ts_node_child(i): that one walks from the first child each
  // time, quadratic on a config with 100,000 top-level entries.
  const auto add_name = [&outline, &seen](std::string_view name) {
    if (seen.insert(name).second) outline.top_level_fields.emplace_back(name);
  };
  int depth = 0;
  TSTreeCursor cursor = ts_tree_cursor_new(parent);
  for (bool more = ts_tree_cursor_goto_first_child(&cursor); more;
       more = ts_tree_cursor_goto_next_sibling(&cursor)) {
    const TSNode child = ts_tree_cursor_current_node(&cursor);
    const char* type = ts_node_type(child);
    if (std::strcmp(type, "{") == 0 || std::strcmp(type, "<") == 0) {
      ++depth;
    } else if (std::strcmp(type, "}") == 0 || std::strcmp(type, ">") == 0) {
      depth = depth > 0 ? depth - 1 : 0;
    } else if (depth > 0) {
      continue;
    } else if (std::strcmp(type, "header") == 0) {
      SchemaHeader header;
      const TSNode key = ts_node_child_by_field_name(child, "key", 3);
      const TSNode value = ts_node_child_by_field_name(child, "value", 5);
      if (ts_node_is_null(key)) continue;
      header.key = header_key_name(document.text_of(key));
      if (!ts_node_is_null(value)) header.value = std::string(trim(document.text_of(value)));
      header.range = syntax::byte_range_of(child);
      outline.headers.push_back(std::move(header));
    } else if (std::strcmp(type, "field") == 0) {
      // The name is a field's first child (grammar.js); child 0 is O(1).
      const TSNode name = ts_node_child(child, 0);
      if (!ts_node_is_null(name) && std::strcmp(ts_node_type(name), "field_name") == 0) {
        add_name(document.text_of(name));
      }
    } else if (std::strcmp(type, "field_name") == 0 && inside_error) {
      add_name(document.text_of(child));
    } else if (std::strcmp(type, "ERROR") == 0 && !inside_error) {
      // Broken syntax at the top level must not make a config lose its schema.
      outline_children(document, child, outline, seen, true);
    }
  }
  ts_tree_cursor_delete(&cursor);
}

}  // namespace

DocumentOutline outline_of(const syntax::Document& document) {
  DocumentOutline outline;
  std::unordered_set<std::string_view> seen;  // views into the document's text
  outline_children(document, document.root(), outline, seen, false);
  return outline;
}

SchemaBinding bind_schema(const syntax::Document& document, const BindingOptions& options) {
  return bind_schema(outline_of(document), options);
}

}  // namespace amct::schema
