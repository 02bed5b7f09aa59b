#include "core/ide/definition.h"

#include <cstring>

#include "core/ide/cursor_context.h"

namespace amct::ide {

namespace {

template <typename Descriptor>
std::optional<DefinitionTarget> target_of(const Descriptor* descriptor) {
  google::protobuf::SourceLocation location;
  if (!descriptor->GetSourceLocation(&location)) return std::nullopt;
  DefinitionTarget target;
  target.proto_file = descriptor->file()->name();
  target.line = static_cast<uint32_t>(location.start_line);
  target.column = static_cast<uint32_t>(location.start_column);
  target.end_line = static_cast<uint32_t>(location.end_line);
  target.end_column = static_cast<uint32_t>(location.end_column);
  return target;
}

}  // namespace

std::optional<DefinitionTarget> definition(const syntax::Document& document, uint32_t offset,
                                           const google::protobuf::Descriptor* root_type) {
  if (!root_type) return std::nullopt;
  TSNode token{};
  for (uint32_t at : {offset, offset > 0 ? offset - 1 : offset}) {
    TSNode node = ts_node_descendant_for_byte_range(document.root(), at, at);
    if (!ts_node_is_null(node) && !std::strcmp(ts_node_type(node), "identifier")) {
      token = node;
      break;
    }
  }
  if (ts_node_is_null(token)) return std::nullopt;
  const uint32_t start = ts_node_start_byte(token);
  const std::string name(document.text_of(token));
  const CursorContext context = cursor_context(document, start, root_type);
  TSNode parent = ts_node_parent(token);
  if (!ts_node_is_null(parent) && !std::strcmp(ts_node_type(parent), "field_name")) {
    if (!context.message) return std::nullopt;
    const auto* field = context.message->FindFieldByName(name);
    return field ? target_of(field) : std::nullopt;
  }
  if (context.kind == CursorContext::Kind::FieldValue && context.field && context.field->enum_type()) {
    const auto* value = context.field->enum_type()->FindValueByName(name);
    return value ? target_of(value) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace amct::ide
