#include "core/ide/folding.h"

#include <catch2/catch.hpp>

using amct::ide::folding_ranges;
using amct::syntax::Document;

TEST_CASE("folding: multi-line blocks and lists up to the line before the closer, comment runs", "[folding]") {
  const Document document(
      "# one\n"         // 0
      "# two\n"         // 1
      "a {\n"           // 2
      "  b: 1\n"        // 3
      "  c: [\n"        // 4
      "    1,\n"        // 5
      "    2]\n"        // 6
      "}\n"             // 7
      "d { e: 1 }\n"    // 8
      "f {\n"           // 9
      "}\n");           // 10
  const auto ranges = folding_ranges(document);
  REQUIRE(ranges.size() == 3);
  CHECK(ranges[0].start_line == 0);
  CHECK(ranges[0].end_line == 1);
  CHECK(ranges[0].kind == "comment");
  CHECK(ranges[1].start_line == 2);
  CHECK(ranges[1].end_line == 6);
  CHECK(ranges[1].kind.empty());
  CHECK(ranges[2].start_line == 4);
  CHECK(ranges[2].end_line == 5);
}

TEST_CASE("folding: trailing comments do not join a run; broken text still folds", "[folding]") {
  const Document document("a: 1 # x\n# y\nb {\n  c: 1\n  d: \n}\n");
  const auto ranges = folding_ranges(document);
  REQUIRE(ranges.size() == 1);
  CHECK(ranges[0].start_line == 2);
  CHECK(ranges[0].end_line == 4);
}
