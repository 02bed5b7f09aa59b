#include "core/ide/estimate_inlay_hints.h"

namespace amct::ide {

std::vector<InlayHint> estimate_inlay_hints(const syntax::Document& document, const std::vector<EstimateHint>& hints,
                                            const InlayHintOptions& options) {
  const std::string& text = document.text();
  std::vector<InlayHint> out;
  for (const EstimateHint& hint : hints) {
    // The end of the block's first line, before trailing blanks.
    size_t end = std::min<size_t>(hint.range.start, text.size());
    while (end < text.size() && text[end] != '\n') ++end;
    while (end > hint.range.start && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) --end;
    const auto offset = static_cast<uint32_t>(end);
    if (options.range && (offset < options.range->start || offset > options.range->end)) continue;
    InlayHint inlay;
    inlay.offset = offset;
    inlay.label = hint.label;
    inlay.tooltip = hint.complete()
                        ? "Estimated error of the " + std::to_string(hint.layers) +
                              (hint.layers == 1 ? " layer" : " layers") + " this block governs, on the weights of amct.weights"
                        : "Estimating in the background";
    out.push_back(std::move(inlay));
  }
  return out;
}

}  // namespace amct::ide
