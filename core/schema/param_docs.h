#pragma once
// Parameter docs as data: data/parameter_docs.md, a Markdown table with the
// columns of AMCT's parameter table (message | label | type | field |
// description (zh) | description (en)), parsed into per-item docs for hover
// and completion. Malformed rows are skipped and listed in errors(); parsing
// never throws.
#include <google/protobuf/descriptor.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amct::schema {

struct ParamDoc {
  std::string message;  // message or enum full name, e.g. "ARQRetrain", "DataType"
  std::string label;    // "message", "enum", "enum value", "optional", "required", "repeated", "oneof"
  std::string type;     // field type as written, "-" for messages, enums and enum values
  std::string field;    // field or enum value name, "-" for a message or enum row
  std::string zh;       // Chinese description; `<br>` in the table becomes '\n'
  std::string en;       // English description; `<br>` in the table becomes '\n'
  int line = 0;         // 1-based line in the Markdown file
};

class ParamDocs {
 public:
  // A field of a message, by message full name and field name.
  const ParamDoc* field(std::string_view message, std::string_view field) const;
  const ParamDoc* field(const google::protobuf::FieldDescriptor* field) const;
  // The row describing a message or an enum type itself.
  const ParamDoc* type(std::string_view full_name) const;
  // An enum value, by enum full name and value name.
  const ParamDoc* enum_value(std::string_view enum_name, std::string_view value) const;
  const ParamDoc* enum_value(const google::protobuf::EnumValueDescriptor* value) const;

  const std::vector<ParamDoc>& rows() const { return rows_; }
  // "line N: what is wrong" for every skipped row or table problem.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  friend ParamDocs parse_param_docs(std::string_view markdown);
  const ParamDoc* find(std::string_view message, std::string_view field, bool enum_value) const;

  std::vector<ParamDoc> rows_;
  std::map<std::pair<std::string, std::string>, size_t, std::less<>> by_key_;
  std::vector<std::string> errors_;
};

ParamDocs parse_param_docs(std::string_view markdown);

// data/parameter_docs.md as embedded in the binary, parsed once (thread-safe).
const ParamDocs& amct_param_docs();

}  // namespace amct::schema
