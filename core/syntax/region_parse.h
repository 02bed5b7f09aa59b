#pragma once
// A tree of one stretch of a document's text, parsed as if it were the whole
// document, with node offsets into the whole text. The language server's
// re-check after an edit parses only the top-level fields around the edit
// this way: tree-sitter 0.20.7 re-parses a 10,000-block file in ~20 ms per
// edit however small (every top-level repeat node it built is "fragile", so
// each of the 10,000 fields is shifted and reduced again), while the fields
// around an edit parse in microseconds.
#include <tree_sitter/api.h>

#include <memory>
#include <optional>
#include <string_view>

#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::syntax {

class RegionTree {
 public:
  // The root: its children are the top-level items inside the region.
  TSNode root() const { return ts_tree_root_node(tree_.get()); }
  ByteRange region() const { return region_; }

 private:
  friend std::optional<RegionTree> parse_region(std::string_view text, ByteRange region);
  std::unique_ptr<TSTree, Document::TreeDeleter> tree_;
  ByteRange region_;
};

// nullopt when the region has a syntax error, holds invalid UTF-8, or its
// parse ran out of time: the caller then parses the whole text.
std::optional<RegionTree> parse_region(std::string_view text, ByteRange region);

}  // namespace amct::syntax
