#pragma once
// A bump allocator behind the global operator new for the `--check` process.
//
// A check builds large models (a 35 MB config: ~3 million allocations) and
// never frees them: the process prints and exits (keep_until_exit). Handing
// out memory by bumping a pointer in one big mapping saves malloc's work and
// its per-block headers. Freed blocks are reused, since fresh memory costs
// its zeroing by the kernel: small ones freed with their size (temporary
// strings, scratch vectors) from per-thread lists, large ones (growing
// vectors and strings) and the chunks of small ones from a shared table.
// Chunks are faulted in a step at a time as they fill (the zeroed step is
// still in the cache when written). (Huge pages were tried: fewer faults,
// but the time to get them varied from 0.07 s to 0.6 s a run on the shared
// test machine. So was a SCHED_IDLE thread faulting pages in ahead: under
// load it can sit preempted inside madvise, holding the mmap lock that a
// thread start waits for: runs of 3 s.)
//
// Off until enable_batch_arena() is called; then every operator new takes
// from the arena until its budget is spent, and malloc again after that.
// operator delete takes arena blocks back for reuse (small blocks freed
// without their size are dropped until exit) and frees the others. Only the
// `--check` CLI enables it; the language server and the tests run on malloc. Not built under AddressSanitizer, which must see every
// allocation.
#include <cstddef>

namespace amct::server {

// Reserves `budget_bytes` of address space (memory is committed as it is
// touched). Does nothing when already enabled, when the budget is tiny, or
// when the mapping fails. Returns whether the arena is in use.
bool enable_batch_arena(size_t budget_bytes);

// Bytes handed out by the arena so far (0 when off).
size_t batch_arena_used();

}  // namespace amct::server
