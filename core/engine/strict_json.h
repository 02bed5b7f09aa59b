#pragma once
// A small strict JSON reader (RFC 8259) for the engine's inputs: safetensors
// headers and layer manifests. core/ does not use nlohmann/json; these inputs
// come from untrusted files, so the reader is strict (no trailing commas, no
// comments, no leading zeros, valid UTF-8 escapes), bounds nesting depth and
// reports the byte offset of the first problem.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amct::engine {

class JsonValue {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  // The number as an exact non-negative integer (digits only, no fraction or
  // exponent, fits in 64 bits); nullopt otherwise.
  std::optional<uint64_t> as_uint64() const;
  const std::string& as_string() const { return string_; }  // String: the text; Number: the literal
  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  // Object member by key (the last one if repeated), or nullptr.
  const JsonValue* find(std::string_view key) const;

  static const char* kind_name(Kind kind);  // "null", "bool", "number", ...

 private:
  friend class JsonReader;
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

struct JsonParseOptions {
  int max_depth = 64;
};

struct JsonParseResult {
  std::optional<JsonValue> value;
  std::string error;  // "at byte N: ..." when value is empty
};

JsonParseResult parse_json(std::string_view text, const JsonParseOptions& options = {});

}  // namespace amct::engine
