#pragma once
// Inlay hints: the defaults a block gets for the fields it leaves unset
// (`dst_type: INT8 (default)`), shown after the block's opening bracket.
#include <optional>
#include <string>
#include <vector>

#include "core/model/binder.h"
#include "core/syntax/document.h"

namespace amct::ide {

struct InlayHint {
  uint32_t offset = 0;  // byte offset the hint is shown at
  std::string label;
  std::string tooltip;
};

struct InlayHintOptions {
  std::optional<ByteRange> range;  // only blocks opening inside it (LSP asks per visible range)
};

std::vector<InlayHint> inlay_hints(const model::BoundDocument& bound, const InlayHintOptions& options);

}  // namespace amct::ide
