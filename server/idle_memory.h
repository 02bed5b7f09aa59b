#pragma once
// Allocator housekeeping for the language server's idle time.
//
// After a publish, the server frees a parse tree and an old model: hundreds
// of thousands of small blocks, which glibc parks in its "fast bins"
// unmerged. The first larger allocation afterwards merges them all first —
// 1.3–1.6 ms that landed inside the next edit's check (a 10,000-block
// config). Merging them while the server is idle moves that cost out of the
// time a user waits for diagnostics.
#include <cstddef>

namespace amct::server {

// Merges the small blocks this thread's malloc arena holds freed. Cheap when
// there are none. A no-op where the C library is not glibc.
void merge_freed_small_blocks();

// How many freed small blocks glibc holds unmerged in all arenas (0 where
// the C library is not glibc). For tests.
size_t unmerged_freed_small_blocks();

}  // namespace amct::server
