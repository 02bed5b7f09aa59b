#include "core/ide/document_symbols.h"

#include <cstring>
#include <string_view>

#include "core/syntax/walk.h"

namespace amct::ide {

namespace {

std::string unquote(std::string_view text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front())
    return std::string(text.substr(1, text.size() - 2));
  return std::string(text);
}

// For a message value: the value of a `layer_name` or `layer_type` field inside.
std::string naming_value(const syntax::Document& document, TSNode message) {
  const uint32_t count = ts_node_named_child_count(message);
  for (uint32_t i = 0; i < count; ++i) {
    TSNode field = ts_node_named_child(message, i);
    if (std::strcmp(ts_node_type(field), "field")) continue;
    TSNode name = ts_node_child_by_field_name(field, "name", 4);
    TSNode value = ts_node_child_by_field_name(field, "value", 5);
    if (ts_node_is_null(name) || ts_node_is_null(value)) continue;
    const std::string_view key = document.text_of(name);
    if (key == "layer_name" || key == "layer_type") return unquote(document.text_of(value));
  }
  return {};
}

}  // namespace

std::vector<DocumentSymbol> document_symbols(const syntax::Document& document) {
  std::vector<DocumentSymbol> roots;
  // Stack of the children vectors being filled, one per open block.
  std::vector<std::vector<DocumentSymbol>*> open{&roots};
  std::vector<TSNode> open_fields;
  syntax::walk(
      document.root(),
      [&](TSNode node, uint32_t) {
        const char* type = ts_node_type(node);
        if (!std::strcmp(type, "source_file") || !std::strcmp(type, "ERROR")) return syntax::Walk::Descend;
        if (!std::strcmp(type, "message") || !std::strcmp(type, "message_list")) return syntax::Walk::Descend;
        if (std::strcmp(type, "field")) return syntax::Walk::Skip;
        TSNode name = ts_node_child_by_field_name(node, "name", 4);
        TSNode value = ts_node_child_by_field_name(node, "value", 5);
        if (ts_node_is_null(name)) return syntax::Walk::Skip;
        DocumentSymbol symbol;
        symbol.name = std::string(document.text_of(name));
        symbol.range = syntax::byte_range_of(node);
        symbol.selection_range = syntax::byte_range_of(name);
        const std::string_view value_type = ts_node_is_null(value) ? "" : ts_node_type(value);
        const bool block = value_type == "message" || value_type == "message_list";
        if (value_type == "message") {
          const std::string layer = naming_value(document, value);
          if (!layer.empty()) {
            symbol.detail = symbol.name;
            symbol.name = layer;
          }
          symbol.kind = SymbolKind::Struct;
        } else if (value_type == "message_list" || value_type == "scalar_list") {
          symbol.kind = SymbolKind::Array;
          if (value_type == "scalar_list") symbol.detail = std::string(document.text_of(value));
        } else if (!ts_node_is_null(value)) {
          symbol.detail = std::string(document.text_of(value));
          if (symbol.detail.size() > 80) symbol.detail = symbol.detail.substr(0, 80) + "…";
        }
        open.back()->push_back(std::move(symbol));
        if (block && open.size() < kMaxSymbolDepth) {
          open.push_back(&open.back()->back().children);
          open_fields.push_back(node);
          return syntax::Walk::Descend;
        }
        return syntax::Walk::Skip;
      },
      [&](TSNode node, uint32_t) {
        if (!open_fields.empty() && ts_node_eq(node, open_fields.back())) {
          open_fields.pop_back();
          open.pop_back();
        }
      });
  return roots;
}

}  // namespace amct::ide
