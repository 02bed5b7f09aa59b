#pragma once
#include <vector>

#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::ide {

// Ranges enclosing `offset`, innermost first, each strictly larger than the
// previous: token, value, field, block, enclosing field, ..., whole document.
std::vector<ByteRange> selection_ranges(const syntax::Document& document, uint32_t offset);

}  // namespace amct::ide
