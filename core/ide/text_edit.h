#pragma once
#include <string>

#include "core/syntax/diagnostic.h"

namespace amct::ide {

// A replacement of a byte range of the document's text (formatting, fixes).
struct TextEdit {
  ByteRange range;
  std::string new_text;
  friend bool operator==(const TextEdit&, const TextEdit&) = default;
};

}  // namespace amct::ide
