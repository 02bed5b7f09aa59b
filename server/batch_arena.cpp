#include "server/batch_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define AMCT_BATCH_ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define AMCT_BATCH_ARENA 0
#endif
#endif
#ifndef AMCT_BATCH_ARENA
#define AMCT_BATCH_ARENA 1
#endif

namespace amct::server {
namespace {

constexpr size_t kAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
// Each thread bumps in its own chunk: no atomic operation per allocation,
// and the blocks of one thread stay together.
constexpr size_t kChunkBytes = size_t{2} << 20;
// Chunks and large blocks are whole pages (madvise needs page-aligned ranges).
constexpr size_t kPageBytes = 4096;
constexpr size_t kMinimumBudget = size_t{16} << 20;

// Set once by enable_batch_arena(), before the worker threads start.
std::atomic<bool> g_enabled{false};
char* g_base = nullptr;
size_t g_size = 0;
std::atomic<size_t> g_next{0};  // offset of the first chunk not handed out

thread_local char* t_cursor = nullptr;
thread_local char* t_limit = nullptr;
// The chunk is faulted in up to here, a step at a time as the cursor gets
// there: the kernel's zeroing leaves the step in the cache (L2: 1 MB a core
// here), where the blocks handed out next are written. (A whole 2 MB chunk
// at once would be mostly out of the cache again by then.)
thread_local char* t_populated = nullptr;
constexpr size_t kPopulateStep = size_t{256} << 10;

// Small blocks freed with their size (std::allocator's sized delete: the
// temporaries of string building, the scratch vectors of a pass) are kept on
// per-thread lists by size and handed out again: without this a check
// writes (and the kernel zeroes) ~150 MB of memory used once. A block freed
// on another thread than its own joins that thread's lists (only the memory
// moves; nothing is shared).
constexpr size_t kSmallReuseBytes = 512;
struct FreeSmall {
  FreeSmall* next;
};
thread_local FreeSmall* t_free_small[kSmallReuseBytes / kAlignment + 1];

constexpr size_t round_up(size_t bytes, size_t to) { return (bytes + to - 1) & ~(to - 1); }

// Chunks of small blocks and large blocks (a vector reserved or resized, a
// file read into a string) are faulted in as a whole when handed out, with
// one madvise(MADV_POPULATE_WRITE) instead of one page fault per 4 KiB page
// (Linux 5.14 on; elsewhere the pages fault in on touch, as without it).
// Nothing else is: the mapping is reserved for the worst case.
void populate(char* start, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  madvise(start, bytes, MADV_POPULATE_WRITE);
#else
  (void)start;
  (void)bytes;
#endif
}

// `bytes` from the shared part of the arena, or null when the budget is spent.
char* take_shared(size_t bytes) {
  const size_t offset = g_next.fetch_add(bytes, std::memory_order_relaxed);
  if (offset > g_size || g_size - offset < bytes) return nullptr;
  return g_base + offset;
}

// Large blocks (buffers of big vectors and strings, which grow by doubling
// and free the old buffer) are given back and reused: fresh memory costs its
// zeroing by the kernel, reused memory does not. Neighbours merge. Few: a
// fixed table under a lock, and no allocation in here.
constexpr size_t kLargeBytes = kChunkBytes / 8;
struct FreeBlock {
  char* start;
  size_t size;
};
constexpr size_t kMaxFreeBlocks = 1024;
FreeBlock g_free[kMaxFreeBlocks];
size_t g_free_count = 0;
std::mutex g_free_mutex;

// `bytes` from a freed large block (already faulted in: `reused` is set)
// or from the shared part (fresh pages), or null when the budget is spent.
char* take_large(size_t bytes, bool& reused) {
  reused = false;
  {
    std::lock_guard<std::mutex> lock(g_free_mutex);
    FreeBlock* best = nullptr;
    for (size_t i = 0; i < g_free_count; ++i) {
      if (g_free[i].size >= bytes && (best == nullptr || g_free[i].size < best->size)) best = &g_free[i];
    }
    if (best != nullptr) {
      char* block = best->start;
      best->start += bytes;
      best->size -= bytes;
      if (best->size == 0) *best = g_free[--g_free_count];
      reused = true;
      return block;
    }
  }
  return take_shared(bytes);
}

[[maybe_unused]] void give_back_large(char* start, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_free_mutex);
  FreeBlock* merged = nullptr;
  for (size_t i = 0; i < g_free_count; ++i) {
    if (g_free[i].start + g_free[i].size == start) {  // right after a free block
      g_free[i].size += bytes;
      merged = &g_free[i];
      break;
    }
  }
  if (merged == nullptr) {
    if (g_free_count == kMaxFreeBlocks) return;  // table full: this block stays unused
    merged = &g_free[g_free_count++];
    *merged = {start, bytes};
  }
  for (size_t i = 0; i < g_free_count; ++i) {  // a free block right after the merged one
    if (g_free[i].start == merged->start + merged->size) {
      merged->size += g_free[i].size;
      g_free[i] = g_free[--g_free_count];
      break;
    }
  }
}

void populate_chunk_up_to(char* end) {
  while (t_populated < end) {
    const size_t step = std::min(kPopulateStep, static_cast<size_t>(t_limit - t_populated));
    populate(t_populated, step);
    t_populated += step;
  }
}

[[maybe_unused]] void* arena_allocate(size_t bytes) {
  bytes = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  if (bytes <= kSmallReuseBytes) {
    FreeSmall*& head = t_free_small[bytes / kAlignment];
    if (head != nullptr) {
      FreeSmall* block = head;
      head = block->next;
      return block;
    }
  }
  // Large blocks never come from a chunk: operator delete gives them back
  // whole pages (see release()).
  if (bytes > kLargeBytes) {
    bytes = round_up(bytes, kPageBytes);  // keeps the chunks after it page-aligned
    bool reused = false;
    char* block = take_large(bytes, reused);
    // A reused block's pages are there: populating them again would only
    // walk their page tables (a 45 MB block: thousands of pages).
    if (block != nullptr && !reused) populate(block, bytes);
    return block;
  }
  if (static_cast<size_t>(t_limit - t_cursor) >= bytes) {
    char* block = t_cursor;
    t_cursor += bytes;
    if (t_cursor > t_populated) populate_chunk_up_to(t_cursor);
    return block;
  }
  // A chunk comes out of a freed large block when there is one (the
  // single-pass parser's nodes, 50 MB for a 35 MB config, are freed once the
  // model is built): memory already faulted in, not zeroed again.
  bool reused = false;
  char* chunk = take_large(kChunkBytes, reused);
  if (chunk == nullptr) return nullptr;
  t_cursor = chunk + bytes;
  t_limit = chunk + kChunkBytes;
  t_populated = reused ? t_limit : chunk;  // a reused chunk is faulted in already
  populate_chunk_up_to(t_cursor);
  return chunk;
}

[[maybe_unused]] bool in_arena(const void* pointer) {
  const auto address = reinterpret_cast<uintptr_t>(pointer);
  const auto base = reinterpret_cast<uintptr_t>(g_base);
  return address >= base && address - base < g_size;
}

}  // namespace

bool enable_batch_arena(size_t budget_bytes) {
  if (!AMCT_BATCH_ARENA || g_enabled.load() || budget_bytes < kMinimumBudget) return false;
  const size_t size = round_up(budget_bytes, kChunkBytes);
  void* mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return false;
  g_base = static_cast<char*>(mapping);
  g_size = size;
  g_enabled.store(true);
  return true;
}

size_t batch_arena_used() {
  if (!g_enabled.load()) return 0;
  const size_t next = g_next.load();
  return next < g_size ? next : g_size;
}

}  // namespace amct::server

#if AMCT_BATCH_ARENA

namespace {

void* allocate(size_t bytes) {
  if (amct::server::g_enabled.load(std::memory_order_relaxed)) {
    if (void* block = amct::server::arena_allocate(bytes)) return block;
  }
  return std::malloc(bytes == 0 ? 1 : bytes);
}

void* allocate_or_throw(size_t bytes) {
  while (true) {
    if (void* block = allocate(bytes)) return block;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void release(void* pointer) noexcept {
  if (pointer == nullptr || amct::server::in_arena(pointer)) return;
  std::free(pointer);
}

// With the size (std::allocator gives it back): large arena blocks are reused.
void release(void* pointer, size_t bytes) noexcept {
  if (pointer == nullptr) return;
  if (!amct::server::in_arena(pointer)) {
    std::free(pointer);
    return;
  }
  bytes = amct::server::round_up(bytes == 0 ? 1 : bytes, amct::server::kAlignment);
  if (bytes <= amct::server::kSmallReuseBytes) {
    auto* block = static_cast<amct::server::FreeSmall*>(pointer);
    amct::server::FreeSmall*& head = amct::server::t_free_small[bytes / amct::server::kAlignment];
    block->next = head;
    head = block;
    return;
  }
  if (bytes > amct::server::kLargeBytes) {
    amct::server::give_back_large(static_cast<char*>(pointer),
                                  amct::server::round_up(bytes, amct::server::kPageBytes));
  }
}

}  // namespace

// The replaceable global allocation functions ([new.delete]); the aligned
// forms keep the library's (aligned_alloc / free), which never see arena blocks.
void* operator new(size_t bytes) { return allocate_or_throw(bytes); }
void* operator new[](size_t bytes) { return allocate_or_throw(bytes); }
void* operator new(size_t bytes, const std::nothrow_t&) noexcept { return allocate(bytes); }
void* operator new[](size_t bytes, const std::nothrow_t&) noexcept { return allocate(bytes); }
void operator delete(void* pointer) noexcept { release(pointer); }
void operator delete[](void* pointer) noexcept { release(pointer); }
void operator delete(void* pointer, size_t bytes) noexcept { release(pointer, bytes); }
void operator delete[](void* pointer, size_t bytes) noexcept { release(pointer, bytes); }
void operator delete(void* pointer, const std::nothrow_t&) noexcept { release(pointer); }
void operator delete[](void* pointer, const std::nothrow_t&) noexcept { release(pointer); }

#endif
