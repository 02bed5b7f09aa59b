#include "support/annotated.h"

#include <stdexcept>

namespace amct::test {

Annotated::Annotated(std::string_view annotated) {
  std::vector<size_t> open;  // indices into ranges, for nesting
  for (size_t i = 0; i < annotated.size(); ++i) {
    const std::string_view rest = annotated.substr(i);
    if (rest.starts_with("\\^") || rest.starts_with("\\[[") || rest.starts_with("\\]]")) {
      const size_t length = rest[1] == '^' ? 1 : 2;
      text.append(rest.substr(1, length));
      i += length;
    } else if (rest.starts_with("[[")) {
      ranges.push_back({static_cast<uint32_t>(text.size()), 0});
      open.push_back(ranges.size() - 1);
      ++i;
    } else if (rest.starts_with("]]")) {
      if (open.empty()) throw std::invalid_argument("annotated text: ']]' without '[['");
      ranges[open.back()].end = static_cast<uint32_t>(text.size());
      open.pop_back();
      ++i;
    } else if (rest[0] == '^') {
      cursors.push_back(static_cast<uint32_t>(text.size()));
    } else {
      text.push_back(rest[0]);
    }
  }
  if (!open.empty()) throw std::invalid_argument("annotated text: '[[' without ']]'");
}

uint32_t Annotated::cursor() const {
  if (cursors.size() != 1) throw std::logic_error("annotated text: expected exactly one '^'");
  return cursors.front();
}

ByteRange Annotated::range() const {
  if (ranges.size() != 1) throw std::logic_error("annotated text: expected exactly one [[range]]");
  return ranges.front();
}

}  // namespace amct::test
