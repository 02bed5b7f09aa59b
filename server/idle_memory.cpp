#include "server/idle_memory.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace amct::server {

void merge_freed_small_blocks() {
#if defined(__GLIBC__)
  // glibc merges an arena's fast bins before serving a request above the
  // small-bin sizes (1 KB) that its thread cache cannot serve; 64 KB is also
  // below the threshold where malloc maps memory instead. The volatile
  // pointer keeps the compiler from removing the malloc/free pair, which it
  // otherwise may.
  void* volatile block = std::malloc(size_t{64} << 10);
  std::free(block);
#endif
}

size_t unmerged_freed_small_blocks() {
#if defined(__GLIBC__)
  return mallinfo2().smblks;
#else
  return 0;
#endif
}

}  // namespace amct::server
