#include "core/ide/hover.h"

#include <cstring>

#include "core/ide/cursor_context.h"
#include "core/ide/field_docs.h"

namespace amct::ide {

namespace {

// The identifier token at `offset` (also when the cursor is just after it).
TSNode identifier_at(const syntax::Document& document, uint32_t offset) {
  for (uint32_t at : {offset, offset > 0 ? offset - 1 : offset}) {
    TSNode node = ts_node_descendant_for_byte_range(document.root(), at, at);
    if (!ts_node_is_null(node) && !std::strcmp(ts_node_type(node), "identifier")) return node;
  }
  return TSNode{};
}

void append_section(std::string& markdown, const std::string& text) {
  if (text.empty()) return;
  markdown += "\n\n";
  markdown += text;
}

}  // namespace

std::optional<Hover> hover(const syntax::Document& document, uint32_t offset, const HoverOptions& options) {
  if (!options.root_type) return std::nullopt;
  TSNode token = identifier_at(document, offset);
  if (ts_node_is_null(token)) return std::nullopt;
  const ByteRange range = syntax::byte_range_of(token);
  TSNode parent = ts_node_parent(token);
  const std::string_view parent_type = ts_node_is_null(parent) ? "" : ts_node_type(parent);
  const bool zh = options.language == DocsLanguage::Chinese;

  if (parent_type == "field_name") {
    const CursorContext context = cursor_context(document, range.start, options.root_type);
    if (!context.message) return std::nullopt;
    const google::protobuf::FieldDescriptor* field = context.message->FindFieldByName(std::string(document.text_of(token)));
    if (!field) return std::nullopt;
    std::string markdown = "**" + field->name() + "** (" + (zh ? "消息 " : "in ") + context.message->name() + ")\n\n```proto\n" +
                           field_signature(field) + "\n```";
    append_section(markdown, field_description(field, options.language));
    append_section(markdown, precedence_note(field, options.language));
    return Hover{std::move(markdown), range};
  }

  // An enum value (or bool) given to a field.
  const CursorContext context = cursor_context(document, range.start, options.root_type);
  if (context.kind != CursorContext::Kind::FieldValue || !context.field || !context.field->enum_type()) return std::nullopt;
  const auto* value = context.field->enum_type()->FindValueByName(std::string(document.text_of(token)));
  if (!value) return std::nullopt;
  std::string markdown = "**" + value->name() + "** · `" + value->type()->name() + " = " +
                         std::to_string(value->number()) + "`";
  append_section(markdown, enum_value_description(value, options.language));
  append_section(markdown, soc_support_note(value, options.language));
  return Hover{std::move(markdown), range};
}

}  // namespace amct::ide
