#pragma once
#include <string>
#include <vector>

#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::ide {

// LSP SymbolKind values used by the outline.
enum class SymbolKind { Field = 8, Struct = 23, Array = 18, Key = 20 };

struct DocumentSymbol {
  std::string name;
  std::string detail;
  SymbolKind kind = SymbolKind::Field;
  ByteRange range;            // the whole field
  ByteRange selection_range;  // its name
  std::vector<DocumentSymbol> children;
};

// The outline: every field, blocks with their fields as children. Blocks
// that name a layer (`layer_name`/`layer_type` inside, as AMCT's overrides
// do) are shown by that name. Deeper than kMaxSymbolDepth, blocks are leaves.
inline constexpr uint32_t kMaxSymbolDepth = 64;
std::vector<DocumentSymbol> document_symbols(const syntax::Document& document);

}  // namespace amct::ide
