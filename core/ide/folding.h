#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/syntax/document.h"

namespace amct::ide {

struct FoldingRange {
  uint32_t start_line = 0;  // 0-based
  uint32_t end_line = 0;
  std::string kind;  // "" (region of code) or "comment"
};

// Messages and lists spanning several lines, and runs of 2+ comment lines.
std::vector<FoldingRange> folding_ranges(const syntax::Document& document);

}  // namespace amct::ide
