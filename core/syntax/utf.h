#pragma once
// UTF-8 decoding that never fails: an invalid byte decodes as U+FFFD and
// advances by one byte, as editors display it.
#include <cstdint>
#include <string_view>

namespace amct::syntax {

struct DecodedChar {
  char32_t code_point;
  uint32_t length;  // bytes consumed, >= 1
  bool valid;
};

DecodedChar decode_utf8(std::string_view text, size_t offset);

// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t find_invalid_utf8(std::string_view text);

inline uint32_t utf16_length(char32_t code_point) { return code_point >= 0x10000 ? 2 : 1; }

}  // namespace amct::syntax
