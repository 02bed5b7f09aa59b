#pragma once
// Annotated text for feature tests: `^` marks a cursor, `[[` `]]` a range.
//   Annotated a("a: [[10bar]]\nb^: 1");
//   a.text   == "a: 10bar\nb: 1"
//   a.ranges == {{3, 8}}, a.cursors == {10}   (byte offsets into a.text)
// Markers may be escaped as `\^`, `\[[`, `\]]` when the text needs them literally.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/syntax/diagnostic.h"

namespace amct::test {

struct Annotated {
  explicit Annotated(std::string_view annotated);

  std::string text;
  std::vector<uint32_t> cursors;
  std::vector<ByteRange> ranges;  // in order of their opening marker

  uint32_t cursor() const;  // the only cursor (fails the test if not exactly one)
  ByteRange range() const;  // the only range
};

}  // namespace amct::test
