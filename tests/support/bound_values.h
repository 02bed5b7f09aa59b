#pragma once
// The meaning of a document as the formatter must keep it, for the
// formatting tests and the formatter's fuzz target.
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"

namespace amct::test {

// The meaning of a document as protobuf's own tokenizer sees it, with the
// spellings the formatter may change normalised: field separators dropped,
// a ':' before a message dropped, `<` `>` as `{` `}`. Two documents with the
// same list parse to the same message under any schema. nullopt when the
// tokenizer rejects the text (its errors go to `errors` when given).
inline std::optional<std::vector<std::string>> meaning_tokens(const std::string& text,
                                                              std::string* errors = nullptr) {
  namespace io = google::protobuf::io;
  struct Collector : io::ErrorCollector {
    void AddError(int line, io::ColumnNumber column, const std::string& message) override {
      ++count;
      messages += std::to_string(line) + ":" + std::to_string(column) + ": " + message + "\n";
    }
    int count = 0;
    std::string messages;
  } collector;
  io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  io::Tokenizer tokenizer(&input, &collector);
  tokenizer.set_comment_style(io::Tokenizer::SH_COMMENT_STYLE);
  tokenizer.set_allow_f_after_float(true);  // as TextFormat::Parser sets it
  std::vector<std::string> raw;
  while (tokenizer.Next()) raw.push_back(tokenizer.current().text);
  if (errors != nullptr) *errors = collector.messages;
  if (collector.count > 0) return std::nullopt;
  std::vector<std::string> tokens;
  std::vector<char> brackets;  // '{' or '['
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string token = raw[i];
    if (token == "<") token = "{";
    if (token == ">") token = "}";
    if (token == "{" || token == "[") brackets.push_back(token[0]);
    if ((token == "}" || token == "]") && !brackets.empty()) brackets.pop_back();
    const bool in_list = !brackets.empty() && brackets.back() == '[';
    if ((token == "," || token == ";") && !in_list) continue;
    if (token == ":" && i + 1 < raw.size() && (raw[i + 1] == "{" || raw[i + 1] == "<")) continue;
    tokens.push_back(token);
  }
  return tokens;
}

// Whether the parse of `document` gave up: the tree of an empty text for a
// text that is not blank. The parse budget is wall-clock time, so on a starved
// CPU any parse may give up (fuzz finding 259ce7556e81 was such a run).
inline bool parse_gave_up(const syntax::Document& document) {
  return ts_node_child_count(document.root()) == 0 &&
         document.text().find_first_not_of(" \t\r\n\f\v") != std::string::npos;
}

// The first value of bound_values() when the parse gave up.
inline constexpr const char* kParseGaveUp = "(the parse gave up)";

// What the binder makes of a document under the built-in AMCT schema: every
// field occurrence (path, descriptor, typed values) and every schema
// diagnostic (code and message), in order.
inline std::vector<std::string> bound_values(const std::string& text) {
  const syntax::Document document(text);
  const auto bound = model::bind(document, schema::amct_schema().root);
  std::vector<std::string> values;
  if (parse_gave_up(document)) values.push_back(kParseGaveUp);
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
