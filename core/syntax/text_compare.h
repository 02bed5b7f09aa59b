#pragma once
// What two versions of a text share at either end: the incremental binder
// and analyzer use it to find the span an edit changed.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace amct::syntax {

// Length of the common prefix of `a` and `b`; memcmp in blocks, then bytes.
// `known`: a length already known to be common (not compared again).
inline size_t common_prefix(std::string_view a, std::string_view b, size_t known = 0) {
  const size_t limit = std::min(a.size(), b.size());
  constexpr size_t kBlock = 4096;
  size_t at = std::min(known, limit);
  while (at + kBlock <= limit && std::memcmp(a.data() + at, b.data() + at, kBlock) == 0) at += kBlock;
  while (at < limit && a[at] == b[at]) ++at;
  return at;
}

// Length of the common suffix of `a` and `b`, at most `limit`. `known`: as
// for common_prefix.
inline size_t common_suffix(std::string_view a, std::string_view b, size_t limit, size_t known = 0) {
  limit = std::min({limit, a.size(), b.size()});
  constexpr size_t kBlock = 4096;
  size_t length = std::min(known, limit);
  while (length + kBlock <= limit &&
         std::memcmp(a.data() + a.size() - length - kBlock, b.data() + b.size() - length - kBlock, kBlock) == 0)
    length += kBlock;
  while (length < limit && a[a.size() - length - 1] == b[b.size() - length - 1]) ++length;
  return length;
}

}  // namespace amct::syntax
