#include "core/engine/strict_json.h"

#include <cmath>
#include <cstdlib>

namespace amct::engine {

std::optional<uint64_t> JsonValue::as_uint64() const {
  if (kind_ != Kind::Number || string_.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : string_) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  const JsonValue* found = nullptr;
  for (const auto& [name, value] : members_) {
    if (name == key) found = &value;
  }
  return found;
}

const char* JsonValue::kind_name(Kind kind) {
  switch (kind) {
    case Kind::Null: return "null";
    case Kind::Bool: return "bool";
    case Kind::Number: return "number";
    case Kind::String: return "string";
    case Kind::Array: return "array";
    case Kind::Object: return "object";
  }
  return "?";
}

class JsonReader {
 public:
  JsonReader(std::string_view text, const JsonParseOptions& options)
      : text_(text), options_(options) {}

  JsonParseResult run() {
    JsonParseResult result;
    JsonValue value;
    skip_space();
    if (read_value(value, 0)) {
      skip_space();
      if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    }
    if (!error_.empty()) {
      result.error = "at byte " + std::to_string(pos_) + ": " + error_;
    } else {
      result.value = std::move(value);
    }
    return result;
  }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                         text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool read_value(JsonValue& value, int depth) {
    if (depth > options_.max_depth) {
      return fail("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    if (at_end()) return fail("unexpected end of input");
    switch (peek()) {
      case '{': return read_object(value, depth);
      case '[': return read_array(value, depth);
      case '"':
        value.kind_ = JsonValue::Kind::String;
        return read_string(value.string_);
      case 't':
        value.kind_ = JsonValue::Kind::Bool;
        value.bool_ = true;
        return literal("true");
      case 'f':
        value.kind_ = JsonValue::Kind::Bool;
        value.bool_ = false;
        return literal("false");
      case 'n':
        value.kind_ = JsonValue::Kind::Null;
        return literal("null");
      default: return read_number(value);
    }
  }

  bool read_object(JsonValue& value, int depth) {
    value.kind_ = JsonValue::Kind::Object;
    ++pos_;  // '{'
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      if (peek() != '"') return fail("expected a string key");
      std::string key;
      if (!read_string(key)) return false;
      skip_space();
      if (peek() != ':') return fail("expected ':' after a key");
      ++pos_;
      skip_space();
      JsonValue member;
      if (!read_value(member, depth + 1)) return false;
      value.members_.emplace_back(std::move(key), std::move(member));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  bool read_array(JsonValue& value, int depth) {
    value.kind_ = JsonValue::Kind::Array;
    ++pos_;  // '['
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      JsonValue item;
      if (!read_value(item, depth + 1)) return false;
      value.items_.push_back(std::move(item));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool read_hex4(uint32_t& code) {
    if (pos_ + 4 > text_.size()) return fail("truncated \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9') code |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') code |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') code |= static_cast<uint32_t>(c - 'A' + 10);
      else return fail("invalid \\u escape");
    }
    return true;
  }

  static void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool read_string(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (at_end()) return fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) return fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t code = 0;
          if (!read_hex4(code)) return false;
          if (code >= 0xD800 && code <= 0xDBFF) {
            uint32_t low = 0;
            if (text_.substr(pos_, 2) != "\\u") return fail("unpaired surrogate");
            pos_ += 2;
            if (!read_hex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return fail("unpaired surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code <= 0xDFFF) {
            return fail("unpaired surrogate");
          }
          append_utf8(out, code);
          break;
        }
        default: return fail("invalid escape");
      }
    }
  }

  bool read_number(JsonValue& value) {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (peek() >= '0' && peek() <= '9') return fail("leading zero in a number");
    } else if (digits() == 0) {
      return fail("unexpected character");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) return fail("digits expected after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) return fail("digits expected in the exponent");
    }
    value.kind_ = JsonValue::Kind::Number;
    value.string_ = std::string(text_.substr(start, pos_ - start));
    value.number_ = std::strtod(value.string_.c_str(), nullptr);
    if (!std::isfinite(value.number_)) return fail("number out of range");
    return true;
  }

  std::string_view text_;
  JsonParseOptions options_;
  size_t pos_ = 0;
  std::string error_;
};

JsonParseResult parse_json(std::string_view text, const JsonParseOptions& options) {
  return JsonReader(text, options).run();
}

}  // namespace amct::engine
