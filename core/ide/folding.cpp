#include "core/ide/folding.h"

#include <cstring>

#include "core/syntax/walk.h"

namespace amct::ide {

std::vector<FoldingRange> folding_ranges(const syntax::Document& document) {
  std::vector<FoldingRange> ranges;
  int64_t comment_start = -1, comment_end = -1;
  auto flush_comments = [&] {
    if (comment_start >= 0 && comment_end > comment_start)
      ranges.push_back({static_cast<uint32_t>(comment_start), static_cast<uint32_t>(comment_end), "comment"});
    comment_start = comment_end = -1;
  };
  syntax::walk(document.root(), [&](TSNode node, uint32_t) {
    const char* type = ts_node_type(node);
    const uint32_t start_line = ts_node_start_point(node).row;
    if (!std::strcmp(type, "comment") || !std::strcmp(type, "header")) {
      // Only comments alone on their line make a foldable run.
      const uint32_t start = ts_node_start_byte(node);
      const uint32_t line_start = document.line_start(start_line);
      const bool alone = document.text().find_first_not_of(" \t", line_start) == start;
      if (alone && comment_end >= 0 && start_line == comment_end + 1) {
        comment_end = start_line;
      } else {
        flush_comments();
        if (alone) comment_start = comment_end = start_line;
      }
      return syntax::Walk::Skip;
    }
    // Pre-order: any other node comes after the comments seen so far.
    if (std::strcmp(type, "source_file")) flush_comments();
    if (!std::strcmp(type, "message") || !std::strcmp(type, "scalar_list") || !std::strcmp(type, "message_list")) {
      // Up to the line before the closing bracket, which stays visible.
      const uint32_t end_line = ts_node_end_point(node).row;
      if (end_line > start_line + 1) ranges.push_back({start_line, end_line - 1, ""});
    }
    return syntax::Walk::Descend;
  });
  flush_comments();
  return ranges;
}

}  // namespace amct::ide
