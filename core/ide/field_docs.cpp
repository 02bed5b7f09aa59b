#include "core/ide/field_docs.h"

#include "core/amct/capabilities.h"
#include "core/schema/param_docs.h"

namespace amct::ide {

using google::protobuf::FieldDescriptor;

namespace {

std::string trim(std::string text) {
  const size_t first = text.find_first_not_of(" \t\n");
  if (first == std::string::npos) return {};
  const size_t last = text.find_last_not_of(" \t\n");
  return text.substr(first, last - first + 1);
}

// A loaded .proto's own comment for the declaration, when the pool kept it.
template <typename Descriptor>
std::string proto_comment(const Descriptor* descriptor) {
  google::protobuf::SourceLocation location;
  if (!descriptor->GetSourceLocation(&location)) return {};
  return trim(location.leading_comments.empty() ? location.trailing_comments : location.leading_comments);
}

bool is_amct_file(const google::protobuf::FileDescriptor* file) {
  return file->name() == "retrain_config.proto";
}

}  // namespace

std::string field_signature(const FieldDescriptor* field) {
  std::string out;
  if (field->is_map()) {
    out = "map<" + std::string(field->message_type()->map_key()->type_name()) + ", " +
          (field->message_type()->map_value()->message_type()
               ? field->message_type()->map_value()->message_type()->name()
               : std::string(field->message_type()->map_value()->type_name())) +
          "> ";
  } else {
    out = field->is_required() ? "required " : field->is_repeated() ? "repeated " : "optional ";
    if (field->message_type()) out += field->message_type()->name() + " ";
    else if (field->enum_type()) out += field->enum_type()->name() + " ";
    else out += std::string(field->type_name()) + " ";
  }
  out += field->name() + " = " + std::to_string(field->number());
  if (field->has_default_value()) {
    std::string value;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM: value = field->default_value_enum()->name(); break;
      case FieldDescriptor::CPPTYPE_BOOL: value = field->default_value_bool() ? "true" : "false"; break;
      case FieldDescriptor::CPPTYPE_INT32: value = std::to_string(field->default_value_int32()); break;
      case FieldDescriptor::CPPTYPE_INT64: value = std::to_string(field->default_value_int64()); break;
      case FieldDescriptor::CPPTYPE_UINT32: value = std::to_string(field->default_value_uint32()); break;
      case FieldDescriptor::CPPTYPE_UINT64: value = std::to_string(field->default_value_uint64()); break;
      case FieldDescriptor::CPPTYPE_STRING: value = "\"" + field->default_value_string() + "\""; break;
      default: {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%g",
                      field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT ? field->default_value_float()
                                                                           : field->default_value_double());
        value = buffer;
      }
    }
    out += " [default = " + value + "]";
  }
  if (const auto* oneof = field->real_containing_oneof()) out += "  (oneof " + oneof->name() + ")";
  return out;
}

std::string field_description(const FieldDescriptor* field, DocsLanguage language) {
  if (const schema::ParamDoc* doc = schema::amct_param_docs().field(field);
      doc && is_amct_file(field->file())) {
    const std::string& preferred = language == DocsLanguage::Chinese ? doc->zh : doc->en;
    return preferred.empty() ? (language == DocsLanguage::Chinese ? doc->en : doc->zh) : preferred;
  }
  return proto_comment(field);
}

std::string enum_value_description(const google::protobuf::EnumValueDescriptor* value, DocsLanguage language) {
  if (const schema::ParamDoc* doc = schema::amct_param_docs().enum_value(value);
      doc && is_amct_file(value->file())) {
    const std::string& preferred = language == DocsLanguage::Chinese ? doc->zh : doc->en;
    return preferred.empty() ? (language == DocsLanguage::Chinese ? doc->en : doc->zh) : preferred;
  }
  return proto_comment(value);
}

std::string precedence_note(const FieldDescriptor* field, DocsLanguage language) {
  if (!is_amct_file(field->file())) return {};
  const std::string& name = field->name();
  const bool zh = language == DocsLanguage::Chinese;
  if (name == "retrain_data_quant_config" || name == "retrain_weight_quant_config") {
    return zh ? "优先级：override_layer_configs > override_layer_types > 全局 retrain_data_quant_config / "
                "retrain_weight_quant_config。量化配置只取一个来源，不跨来源合并：所选条目中缺少的块取默认值（数据：ULQ "
                "INT8；权重：ARQ INT8），而不是全局配置。"
              : "Precedence: override_layer_configs > override_layer_types > global retrain_data_quant_config / "
                "retrain_weight_quant_config. A layer's quantization comes from one source only, never merged: a "
                "block missing from the chosen override gets the default (data: ULQ INT8; weight: ARQ INT8), not the "
                "global block.";
  }
  if (name == "prune_config") {
    return zh ? "优先级：override_layer_configs > override_layer_types > 全局 prune_config。覆盖条目中的 prune_config "
                "缺失或为空时回退到全局配置；跳过列表优先于覆盖条目。"
              : "Precedence: override_layer_configs > override_layer_types > global prune_config. An override whose "
                "prune_config is absent or empty falls back to the global one; a skip entry beats an override.";
  }
  if (name == "override_layer_configs" || name == "override_layer_types") {
    return zh ? "优先级：override_layer_configs（按层名）> override_layer_types（按层类型）> 全局配置。量化时覆盖条目优先于"
                "跳过列表；稀疏时跳过列表优先于覆盖条目。"
              : "Precedence: override_layer_configs (by name) > override_layer_types (by type) > global blocks. For "
                "quantization an override beats a skip entry; for pruning a skip entry beats an override.";
  }
  if (name == "skip_layers" || name == "skip_layer_types" || name == "quant_skip_layers" ||
      name == "quant_skip_types" || name == "regular_prune_skip_layers" || name == "regular_prune_skip_types") {
    return zh ? "量化跳过 = skip_layers ∪ quant_skip_layers，稀疏跳过 = skip_layers ∪ regular_prune_skip_layers（类型列表同理）。"
                "量化时覆盖条目优先于跳过；稀疏时跳过优先于覆盖条目。"
              : "Quantization skips skip_layers ∪ quant_skip_layers, pruning skips skip_layers ∪ "
                "regular_prune_skip_layers (the same for the _types lists). For quantization an override beats a skip "
                "entry; for pruning a skip entry beats an override.";
  }
  return {};
}

std::string soc_support_note(const google::protobuf::EnumValueDescriptor* value, DocsLanguage language) {
  if (!is_amct_file(value->file())) return {};
  const bool zh = language == DocsLanguage::Chinese;
  const SocCatalog& catalog = soc_catalog();
  auto list = [&](bool (*has)(const ProductSeries&), bool wanted) {
    return join_names(catalog.patterns_where(has, wanted));
  };
  const std::string& type = value->type()->name();
  const std::string& name = value->name();
  if (type == "DataType" && name == "INT8") return zh ? "所有昇腾AI处理器均支持。" : "Supported on every Ascend AI processor.";
  if (type == "DataType" && name == "INT4") {
    const std::string socs = list([](const ProductSeries& s) { return s.int4; }, true);
    return zh ? "仅支持：" + socs + "。" : "Supported only on " + socs + ".";
  }
  if (type == "DataType" && name == "INT16")
    return zh ? "当前版本不支持（仅支持 INT8 和 INT4）。" : "Not supported by the current version (only INT8 and INT4).";
  if (type == "NOutOfMType") {
    const std::string socs = list([](const ProductSeries& s) { return s.sparsity_4_2; }, true);
    return zh ? "4选2结构化稀疏仅支持：" + socs + "。" : "4:2 structured sparsity runs only on " + socs + ".";
  }
  return {};
}

}  // namespace amct::ide
