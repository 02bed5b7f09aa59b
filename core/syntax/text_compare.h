#pragma once
// What two versions of a text share at either end: the incremental binder
// and analyzer use it to find the span an edit changed.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace amct::syntax {

// Length of the common prefix of `a` and `b`; memcmp in blocks, then bytes.
inline size_t common_prefix(std::string_view a, std::string_view b) {
  const size_t limit = std::min(a.size(), b.size());
  constexpr size_t kBlock = 4096;
  size_t at = 0;
  while (at + kBlock <= limit && std::memcmp(a.data() + at, b.data() + at, kBlock) == 0) at += kBlock;
  while (at < limit && a[at] == b[at]) ++at;
  return at;
}

// Length of the common suffix of `a` and `b`, at most `limit`.
inline size_t common_suffix(std::string_view a, std::string_view b, size_t limit) {
  limit = std::min({limit, a.size(), b.size()});
  constexpr size_t kBlock = 4096;
  size_t length = 0;
  while (length + kBlock <= limit &&
         std::memcmp(a.data() + a.size() - length - kBlock, b.data() + b.size() - length - kBlock, kBlock) == 0)
    length += kBlock;
  while (length < limit && a[a.size() - length - 1] == b[b.size() - length - 1]) ++length;
  return length;
}

}  // namespace amct::syntax
