#include "core/syntax/region_parse.h"

#include "core/syntax/utf.h"

namespace amct::syntax {

std::optional<RegionTree> parse_region(std::string_view text, ByteRange region) {
  if (region.start > region.end || region.end > text.size()) return std::nullopt;
  const std::string_view bytes = text.substr(region.start, region.end - region.start);
  if (find_invalid_utf8(bytes) != std::string_view::npos) return std::nullopt;
  // Its own parser per thread: Document's keeps no included ranges.
  thread_local std::unique_ptr<TSParser, decltype(&ts_parser_delete)> parser(nullptr, ts_parser_delete);
  if (!parser) {
    parser.reset(ts_parser_new());
    ts_parser_set_language(parser.get(), tree_sitter_textproto());
  }
  // Only byte offsets are read from the tree: the points are placeholders.
  const TSRange range{{0, region.start}, {0, region.end}, region.start, region.end};
  if (!ts_parser_set_included_ranges(parser.get(), &range, 1)) return std::nullopt;
  ts_parser_set_timeout_micros(parser.get(), kParseBudgetMicros + 2 * static_cast<uint64_t>(bytes.size()));
  TSTree* tree = ts_parser_parse_string(parser.get(), nullptr, text.data(), static_cast<uint32_t>(text.size()));
  if (tree == nullptr) {
    ts_parser_reset(parser.get());
    return std::nullopt;
  }
  RegionTree result;
  result.tree_.reset(tree);
  result.region_ = region;
  if (ts_node_has_error(result.root())) return std::nullopt;
  return result;
}

}  // namespace amct::syntax
