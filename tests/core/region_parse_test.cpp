#include "core/syntax/region_parse.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/annotated.h"

using amct::ByteRange;
using amct::syntax::parse_region;

namespace {

// The byte ranges of the region root's children.
std::vector<ByteRange> children_of(const amct::syntax::RegionTree& tree) {
  std::vector<ByteRange> children;
  const TSNode root = tree.root();
  for (uint32_t i = 0; i < ts_node_child_count(root); ++i) {
    const TSNode child = ts_node_child(root, i);
    children.push_back({ts_node_start_byte(child), ts_node_end_byte(child)});
  }
  return children;
}

}  // namespace

TEST_CASE("a region parses alone, its nodes at their offsets in the whole text", "[region-parse]") {
  const amct::test::Annotated text("a: 1\n[[b { c: 2 }]]\n[[# note]]\n[[d: \"x\"]]\ne: {\n");
  const ByteRange region{text.ranges[0].start, text.ranges[2].end + 1};
  const auto tree = parse_region(text.text, region);
  REQUIRE(tree.has_value());
  CHECK(tree->region() == region);
  // The broken `e: {` after the region is not seen.
  CHECK(children_of(*tree) == std::vector<ByteRange>{text.ranges[0], text.ranges[1], text.ranges[2]});
}

TEST_CASE("a region with a syntax error, invalid UTF-8 or bounds outside the text gives no tree", "[region-parse]") {
  const std::string text = "a: 1\nb { c: 2\nd: \"\xff\"\ne: 3\n";
  const uint32_t b = static_cast<uint32_t>(text.find('b')), d = static_cast<uint32_t>(text.find('d'));
  const uint32_t e = static_cast<uint32_t>(text.find('e'));
  CHECK(parse_region(text, {0, 5}).has_value());          // `a: 1` alone is fine
  CHECK_FALSE(parse_region(text, {b, d}).has_value());    // an unclosed block
  CHECK_FALSE(parse_region(text, {d, e}).has_value());    // invalid UTF-8 in a string
  CHECK_FALSE(parse_region(text, {e, static_cast<uint32_t>(text.size()) + 1}).has_value());
  CHECK_FALSE(parse_region(text, {e, d}).has_value());    // reversed
  CHECK(parse_region(text, {e, static_cast<uint32_t>(text.size())}).has_value());
}
