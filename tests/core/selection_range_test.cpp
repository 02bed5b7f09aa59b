#include "core/ide/selection_range.h"

#include <catch2/catch.hpp>

#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::selection_ranges;
using amct::syntax::Document;
using amct::test::Annotated;

TEST_CASE("selection ranges grow from the token to the document", "[selection]") {
  const Annotated a("x: 1\n[[outer {\n  [[[[dst_t^ype]]: INT8]]\n}]]\n");
  const Document document(a.text);
  const auto ranges = selection_ranges(document, a.cursor());
  REQUIRE(ranges.size() >= 4);
  CHECK(ranges[0] == a.ranges[2]);  // the name
  // ...then the field, ..., the outer field, and the whole document last.
  CHECK(std::find(ranges.begin(), ranges.end(), a.ranges[1]) != ranges.end());
  CHECK(std::find(ranges.begin(), ranges.end(), a.ranges[0]) != ranges.end());
  CHECK(ranges.back() == amct::ByteRange{0, static_cast<uint32_t>(a.text.size())});
  for (size_t i = 1; i < ranges.size(); ++i) {
    CHECK(ranges[i].start <= ranges[i - 1].start);
    CHECK(ranges[i].end >= ranges[i - 1].end);
    CHECK(!(ranges[i] == ranges[i - 1]));
  }
}

TEST_CASE("selection ranges at the end of a token and in broken text", "[selection]") {
  const Annotated a("a: [[value]]^\n");
  const Document document(a.text);
  CHECK(selection_ranges(document, a.cursor())[0] == a.range());
  const Document broken("a { b: ");
  CHECK(!selection_ranges(broken, 7).empty());
  CHECK(!selection_ranges(broken, 999).empty());
}
