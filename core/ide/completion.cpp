#include "core/ide/completion.h"

#include <algorithm>

#include "core/amct/capabilities.h"
#include "core/ide/cursor_context.h"
#include "core/ide/field_docs.h"
#include "core/schema/schema.h"

namespace amct::ide {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

namespace {

std::string join_docs(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += part;
  }
  return out;
}

bool is_layer_type_field(const FieldDescriptor* field, const std::string& name) {
  if (field && field->type() != FieldDescriptor::TYPE_STRING) return false;
  return name == "layer_type" || name == "skip_layer_types" || name == "quant_skip_types" ||
         name == "regular_prune_skip_types";
}

bool is_layer_name_field(const FieldDescriptor* field, const std::string& name) {
  if (field && field->type() != FieldDescriptor::TYPE_STRING) return false;
  return name == "layer_name" || name == "skip_layers" || name == "quant_skip_layers" ||
         name == "regular_prune_skip_layers";
}

// Whether a SoC can run an AMCT enum value (INT4, INT16, M4N2).
bool soc_supports(const std::optional<std::string>& soc, const google::protobuf::EnumValueDescriptor* value) {
  if (!soc) return true;
  const ProductSeries* series = soc_catalog().find_series(*soc);
  if (!series) return true;
  const std::string& name = value->name();
  if (name == "INT4") return series->int4;
  if (name == "INT16") return series->int16;
  if (value->type()->name() == "NOutOfMType") return series->sparsity_4_2;
  return true;
}

void complete_field_names(const CursorContext& context, const CompletionOptions& options,
                          std::vector<CompletionItem>& items) {
  const Descriptor* message = context.message;
  if (!message) return;
  auto is_set = [&](const FieldDescriptor* field) {
    return std::find(context.set_fields.begin(), context.set_fields.end(), field->name()) != context.set_fields.end();
  };
  for (int i = 0; i < message->field_count(); ++i) {
    const FieldDescriptor* field = message->field(i);
    // A set singular field, or another member of a set oneof, is left out:
    // giving it again would only replace a value (AMCT keeps the last).
    if (!field->is_repeated() && is_set(field)) continue;
    if (const auto* oneof = field->real_containing_oneof()) {
      bool sibling_set = false;
      for (int j = 0; j < oneof->field_count(); ++j)
        if (oneof->field(j) != field && is_set(oneof->field(j))) sibling_set = true;
      if (sibling_set) continue;
    }
    CompletionItem item;
    item.label = field->name();
    item.detail = field_signature(field);
    item.documentation = join_docs({field_description(field, options.language), precedence_note(field, options.language)});
    item.replace = context.word;
    // Required fields first, then declaration order.
    char order[16];
    std::snprintf(order, sizeof order, "%d%03d", field->is_required() ? 0 : 1, i);
    item.sort_text = order;
    if (field->message_type() && !field->is_map()) {
      item.kind = CompletionKind::Struct;
      item.insert_text = field->name() + " {\n  $0\n}";
      item.is_snippet = true;
    } else {
      item.kind = CompletionKind::Field;
      item.insert_text = field->name() + ": ";
      item.trigger_suggest = field->enum_type() != nullptr || field->type() == FieldDescriptor::TYPE_BOOL ||
                             (options.is_amct && is_layer_type_field(field, field->name()));
    }
    items.push_back(std::move(item));
  }
}

void complete_values(const CursorContext& context, const CompletionOptions& options, std::vector<CompletionItem>& items) {
  const FieldDescriptor* field = context.field;
  if (field && field->enum_type()) {
    const auto* type = field->enum_type();
    for (int i = 0; i < type->value_count(); ++i) {
      const auto* value = type->value(i);
      CompletionItem item;
      item.label = value->name();
      item.kind = CompletionKind::EnumMember;
      item.detail = type->name() + " = " + std::to_string(value->number());
      const bool supported = soc_supports(options.soc, value);
      if (!supported) item.detail += "  (not supported on " + *options.soc + ")";
      item.documentation = join_docs({enum_value_description(value, options.language),
                                      soc_support_note(value, options.language)});
      item.insert_text = value->name();
      item.replace = context.word;
      char order[16];
      std::snprintf(order, sizeof order, "%d%03d", supported ? 0 : 1, i);
      item.sort_text = order;
      items.push_back(std::move(item));
    }
    return;
  }
  if (field && field->type() == FieldDescriptor::TYPE_BOOL) {
    for (const char* value : {"true", "false"}) {
      CompletionItem item;
      item.label = value;
      item.kind = CompletionKind::Keyword;
      item.detail = "bool";
      item.insert_text = value;
      item.replace = context.word;
      items.push_back(std::move(item));
    }
    return;
  }
  if (options.is_amct && is_layer_name_field(field, context.field_name)) {
    for (size_t i = 0; i < options.model_layers.size(); ++i) {
      const CompletionOptions::ModelLayer& layer = options.model_layers[i];
      CompletionItem item;
      item.label = "\"" + layer.name + "\"";
      item.kind = CompletionKind::Value;
      item.detail = layer.type.empty() ? "model layer" : "model layer · " + layer.type;
      item.insert_text = item.label;
      item.replace = context.word;
      char order[24];
      std::snprintf(order, sizeof order, "%06zu", i);  // model order
      item.sort_text = order;
      items.push_back(std::move(item));
    }
    return;
  }
  if (options.is_amct && is_layer_type_field(field, context.field_name)) {
    // The model's own types first (with how many layers have them), then the table's.
    std::vector<std::pair<std::string, size_t>> model_types;
    for (const CompletionOptions::ModelLayer& layer : options.model_layers) {
      if (layer.type.empty()) continue;
      auto known = std::find_if(model_types.begin(), model_types.end(), [&](const auto& t) { return t.first == layer.type; });
      if (known == model_types.end()) model_types.emplace_back(layer.type, 1);
      else ++known->second;
    }
    for (const auto& [type, count] : model_types) {
      if (layer_type_table().find(type)) continue;  // described below, ranked first there
      CompletionItem item;
      item.label = "\"" + type + "\"";
      item.kind = CompletionKind::Value;
      item.detail = "model layer type · " + std::to_string(count) + (count == 1 ? " layer" : " layers");
      item.insert_text = item.label;
      item.replace = context.word;
      item.sort_text = "0" + type;
      items.push_back(std::move(item));
    }
    for (const LayerTypeInfo& info : layer_type_table().types) {
      CompletionItem item;
      item.label = "\"" + info.type + "\"";
      item.kind = CompletionKind::Value;
      std::vector<std::string> features;
      if (info.quantization) features.push_back("quantization");
      if (info.filter_pruning) features.push_back("channel pruning");
      if (info.selective_pruning) features.push_back("4:2 pruning");
      item.detail = "layer type: " + join_names(features);
      item.documentation = info.note;
      item.insert_text = item.label;
      item.replace = context.word;
      auto in_model = std::find_if(model_types.begin(), model_types.end(), [&](const auto& t) { return t.first == info.type; });
      if (in_model != model_types.end()) {
        item.detail += " · in the model: " + std::to_string(in_model->second) + (in_model->second == 1 ? " layer" : " layers");
        item.sort_text = "0" + info.type;
      } else if (!model_types.empty()) {
        item.sort_text = "1" + info.type;
      }
      items.push_back(std::move(item));
    }
  }
}

void complete_header(const CursorContext& context, const CompletionOptions& options, std::vector<CompletionItem>& items) {
  auto add = [&](std::string label, std::string detail, CompletionKind kind) {
    CompletionItem item;
    item.label = label;
    item.insert_text = std::move(label);
    item.detail = std::move(detail);
    item.kind = kind;
    item.replace = context.word;
    items.push_back(std::move(item));
  };
  if (context.header_key == "soc") {
    for (const std::string& name : soc_catalog().known_names) {
      const ProductSeries* series = soc_catalog().find_series(name);
      std::string detail = series ? series->display_name : "";
      if (series) {
        detail += std::string(" · INT4 ") + (series->int4 ? "yes" : "no") + " · 4:2 sparsity " +
                  (series->sparsity_4_2 ? "yes" : "no");
      }
      add(name, detail, CompletionKind::Value);
    }
  } else if (context.header_key == "amct-api") {
    add("quant", "create_quant_retrain_config: quantization only", CompletionKind::Keyword);
    add("prune", "create_prune_retrain_config: pruning, quantization from the content", CompletionKind::Keyword);
    add("compressed", "create_compressed_retrain_config: both, from the content", CompletionKind::Keyword);
  } else if (context.header_key == "proto-message") {
    if (options.schema_file) {
      for (const std::string& name : schema::message_names(options.schema_file)) add(name, "message", CompletionKind::Struct);
    } else if (options.is_amct || !options.root_type) {
      add("AMCTRetrainConfig", "built-in AMCT schema", CompletionKind::Struct);
    }
  }
}

}  // namespace

std::vector<CompletionItem> complete(const syntax::Document& document, uint32_t offset, const CompletionOptions& options) {
  const CursorContext context = cursor_context(document, offset, options.root_type);
  std::vector<CompletionItem> items;
  switch (context.kind) {
    case CursorContext::Kind::Comment: break;
    case CursorContext::Kind::HeaderValue: complete_header(context, options, items); break;
    case CursorContext::Kind::FieldValue: complete_values(context, options, items); break;
    case CursorContext::Kind::FieldName: complete_field_names(context, options, items); break;
  }
  return items;
}

}  // namespace amct::ide
