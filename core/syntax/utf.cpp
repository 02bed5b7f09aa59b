#include "core/syntax/utf.h"

#include <cstdint>
#include <cstring>

namespace amct::syntax {

DecodedChar decode_utf8(std::string_view text, size_t offset) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(offset);
  if (lead < 0x80) return {lead, 1, true};
  uint32_t length;
  char32_t code_point;
  char32_t minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return {0xFFFD, 1, false};
  }
  if (offset + length > text.size()) return {0xFFFD, 1, false};
  for (uint32_t i = 1; i < length; ++i) {
    const unsigned char continuation = byte(offset + i);
    if ((continuation & 0xC0) != 0x80) return {0xFFFD, 1, false};
    code_point = (code_point << 6) | (continuation & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid UTF-8.
  if (code_point < minimum || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF))
    return {0xFFFD, 1, false};
  return {code_point, length, true};
}

size_t find_invalid_utf8(std::string_view text) {
  size_t offset = 0;
  while (offset < text.size()) {
    // ASCII eight bytes at a time: a 3 MB config is checked on every edit.
    while (offset + 8 <= text.size()) {
      uint64_t word;
      std::memcpy(&word, text.data() + offset, 8);
      if (word & 0x8080808080808080ull) break;
      offset += 8;
    }
    if (offset >= text.size()) break;
    if (static_cast<unsigned char>(text[offset]) < 0x80) {
      ++offset;
      continue;
    }
    const DecodedChar decoded = decode_utf8(text, offset);
    if (!decoded.valid) return offset;
    offset += decoded.length;
  }
  return std::string_view::npos;
}

}  // namespace amct::syntax
