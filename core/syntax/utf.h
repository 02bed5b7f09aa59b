#pragma once
// UTF-8 decoding that never fails: an invalid byte decodes as U+FFFD and
// advances by one byte, as editors display it.
#include <cstdint>
#include <cstring>
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

// Whether every byte is below 0x80, read 8 bytes at a time: the LSP
// conversion of every diagnostic's position asks this of its line's prefix.
inline bool is_ascii(std::string_view text) {
  size_t at = 0;
  for (; at + 8 <= text.size(); at += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + at, 8);
    if (word & 0x8080808080808080ull) return false;
  }
  for (; at < text.size(); ++at)
    if (static_cast<unsigned char>(text[at]) >= 0x80) return false;
  return true;
}

inline uint32_t utf16_length(char32_t code_point) { return code_point >= 0x10000 ? 2 : 1; }

}  // namespace amct::syntax
