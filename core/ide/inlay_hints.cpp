#include "core/ide/inlay_hints.h"

#include "core/ide/field_docs.h"

namespace amct::ide {

using google::protobuf::FieldDescriptor;

namespace {

std::string default_text(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM: return field->default_value_enum()->name();
    case FieldDescriptor::CPPTYPE_BOOL: return field->default_value_bool() ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32: return std::to_string(field->default_value_int32());
    case FieldDescriptor::CPPTYPE_INT64: return std::to_string(field->default_value_int64());
    case FieldDescriptor::CPPTYPE_UINT32: return std::to_string(field->default_value_uint32());
    case FieldDescriptor::CPPTYPE_UINT64: return std::to_string(field->default_value_uint64());
    case FieldDescriptor::CPPTYPE_STRING: return "\"" + field->default_value_string() + "\"";
    case FieldDescriptor::CPPTYPE_FLOAT: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%g", field->default_value_float());
      return buffer;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%g", field->default_value_double());
      return buffer;
    }
    default: return {};
  }
}

}  // namespace

std::vector<InlayHint> inlay_hints(const model::BoundDocument& bound, const InlayHintOptions& options) {
  std::vector<InlayHint> hints;
  std::vector<const model::Message*> pending;
  // The root has no opening bracket to show its defaults at.
  for (const model::Field& field : bound.root.fields)
    for (const model::Message& message : field.messages) pending.push_back(&message);
  while (!pending.empty()) {
    const model::Message* message = pending.back();
    pending.pop_back();
    for (const model::Field& field : message->fields)
      for (const model::Message& child : field.messages) pending.push_back(&child);
    if (!message->descriptor) continue;
    if (options.range && (message->open_range.start < options.range->start || message->open_range.start >= options.range->end))
      continue;
    for (int i = 0; i < message->descriptor->field_count(); ++i) {
      const FieldDescriptor* field = message->descriptor->field(i);
      if (!field->has_default_value() || field->is_repeated()) continue;
      if (message->find(field->name())) continue;
      // A default of a oneof member applies only when it is the member chosen.
      if (field->real_containing_oneof()) continue;
      hints.push_back({message->open_range.end, field->name() + ": " + default_text(field) + " (default)",
                       field_signature(field)});
    }
  }
  std::stable_sort(hints.begin(), hints.end(), [](const InlayHint& a, const InlayHint& b) { return a.offset < b.offset; });
  return hints;
}

}  // namespace amct::ide
