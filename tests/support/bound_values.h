#pragma once
// The meaning of a document as the formatter must keep it, for the
// formatting tests and the formatter's fuzz target.
#include <sstream>
#include <string>
#include <vector>

#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"

namespace amct::test {

// What the binder makes of a document under the built-in AMCT schema: every
// field occurrence (path, descriptor, typed values) and every schema
// diagnostic (code and message), in order.
inline std::vector<std::string> bound_values(const std::string& text) {
  const syntax::Document document(text);
  const auto bound = model::bind(document, schema::amct_schema().root);
  std::vector<std::string> values;
  for (const auto& diagnostic : bound.diagnostics) values.push_back(diagnostic.code + ": " + diagnostic.message);
  struct Item {
    const model::Message* message;
    std::string path;
  };
  std::vector<Item> stack{{&bound.root, ""}};
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    std::vector<Item> children;
    for (const auto& field : item.message->fields) {
      const std::string path = item.path + "/" + field.name;
      values.push_back(path + " " + (field.descriptor ? field.descriptor->full_name() : "(unknown)"));
      for (const auto& scalar : field.scalars) {
        using Kind = model::ScalarValue::Kind;
        // The binder binds a comment inside an unknown field's list as an
        // invalid value (its text with the trailing blanks the formatter trims).
        if (scalar.kind == Kind::Invalid && !scalar.text.empty() && scalar.text[0] == '#') continue;
        std::ostringstream value;
        value << path << " = ";
        switch (scalar.kind) {
          case Kind::Bool: value << "bool " << scalar.bool_value; break;
          case Kind::Int: value << "int " << scalar.int_value; break;
          case Kind::UInt: value << "uint " << scalar.uint_value; break;
          case Kind::Float: value << "float " << std::hexfloat << scalar.float_value; break;
          case Kind::String: value << "string " << scalar.string_value; break;
          case Kind::Enum: value << "enum " << (scalar.enum_value ? scalar.enum_value->full_name() : scalar.text); break;
          case Kind::Invalid: value << "invalid " << scalar.text; break;
        }
        values.push_back(value.str());
      }
      for (const auto& message : field.messages) children.push_back({&message, path});
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
  }
  return values;
}

}  // namespace amct::test
