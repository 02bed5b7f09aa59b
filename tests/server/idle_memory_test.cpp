// merge_freed_small_blocks(): the language server's idle-time merge of the
// small blocks glibc keeps freed but unmerged.
#include "server/idle_memory.h"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

TEST_CASE("merging freed small blocks leaves none of this thread's unmerged", "[idle-memory]") {
  using amct::server::merge_freed_small_blocks;
  using amct::server::unmerged_freed_small_blocks;
  merge_freed_small_blocks();
  const size_t before = unmerged_freed_small_blocks();
  {
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 20000; ++i) blocks.push_back(std::make_unique<char[]>(40));
  }
  const size_t after_frees = unmerged_freed_small_blocks();
  if (after_frees == before) {
    WARN("the C library's allocator keeps no unmerged blocks (not glibc): nothing to check");
    return;
  }
  CHECK(after_frees >= before + 10000);
  merge_freed_small_blocks();
  CHECK(unmerged_freed_small_blocks() <= before);
}
