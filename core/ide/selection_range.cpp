#include "core/ide/selection_range.h"

#include <algorithm>

namespace amct::ide {

std::vector<ByteRange> selection_ranges(const syntax::Document& document, uint32_t offset) {
  std::vector<ByteRange> ranges;
  TSNode node = ts_node_descendant_for_byte_range(document.root(), offset, offset);
  // At the end of a token the cursor is still "in" it (as editors expect).
  const bool at_token_start = ts_node_child_count(node) == 0 && ts_node_start_byte(node) == offset;
  if (offset > 0 && (at_token_start || ts_node_child_count(node) > 0)) {
    TSNode before = ts_node_descendant_for_byte_range(document.root(), offset - 1, offset - 1);
    if (ts_node_end_byte(before) == offset && ts_node_is_named(before)) node = before;
  }
  for (; !ts_node_is_null(node); node = ts_node_parent(node)) {
    const ByteRange range = syntax::byte_range_of(node);
    if (!ranges.empty() && range == ranges.back()) continue;
    ranges.push_back(range);
  }
  const ByteRange whole{0, static_cast<uint32_t>(document.text().size())};
  if (ranges.empty() || !(ranges.back() == whole)) ranges.push_back(whole);
  return ranges;
}

}  // namespace amct::ide
