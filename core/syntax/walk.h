#pragma once
// Iterative pre-order walk of a tree-sitter subtree. Documents may nest
// 10,000 deep, so nothing in core/ walks the tree by recursion.
#include <tree_sitter/api.h>

#include <cstdint>

namespace amct::syntax {

enum class Walk { Descend, Skip };

// `enter(node, depth)` returns whether to visit the node's children;
// `leave(node, depth)` runs after them (also for skipped nodes).
template <typename Enter, typename Leave>
void walk(TSNode root, Enter&& enter, Leave&& leave) {
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  uint32_t depth = 0;
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    if (enter(node, depth) == Walk::Descend && ts_tree_cursor_goto_first_child(&cursor)) {
      ++depth;
      continue;
    }
    leave(node, depth);
    for (;;) {
      if (ts_tree_cursor_goto_next_sibling(&cursor)) break;
      if (depth == 0 || !ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return;
      }
      --depth;
      leave(ts_tree_cursor_current_node(&cursor), depth);
    }
  }
}

template <typename Enter>
void walk(TSNode root, Enter&& enter) {
  walk(root, enter, [](TSNode, uint32_t) {});
}

}  // namespace amct::syntax
