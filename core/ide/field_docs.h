#pragma once
// Markdown descriptions of fields and enum values, shared by completion and
// hover: the parameter table's text, the schema facts and, for AMCT, the
// precedence rule and SoC support.
#include <google/protobuf/descriptor.h>

#include <string>

#include "core/ide/docs_language.h"

namespace amct::ide {

// "optional DataType dst_type = 3 [default = INT8]" (oneof members name their oneof).
std::string field_signature(const google::protobuf::FieldDescriptor* field);

// The table's description in `language` (the other language if missing).
std::string field_description(const google::protobuf::FieldDescriptor* field, DocsLanguage language);
std::string enum_value_description(const google::protobuf::EnumValueDescriptor* value, DocsLanguage language);

// The precedence rule when the field takes part in it ("" otherwise).
std::string precedence_note(const google::protobuf::FieldDescriptor* field, DocsLanguage language);

// For AMCT DataType / NOutOfMType values: which SoCs run it ("" otherwise).
std::string soc_support_note(const google::protobuf::EnumValueDescriptor* value, DocsLanguage language);

}  // namespace amct::ide
