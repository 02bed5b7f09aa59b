#pragma once
// The error estimates (estimate_hints.h) as inlay hints rather than code
// lenses: each block's label at the end of the line where the block opens,
// `override_layer_configs {  ≈ SQNR 38.1 dB · rel.err 1.4 % · 1 layer`, so the
// estimates take no lines of their own. Chosen with amct.estimatesIn.
#include <vector>

#include "core/ide/estimate_hints.h"
#include "core/ide/inlay_hints.h"
#include "core/syntax/document.h"

namespace amct::ide {

// In source order; with options.range, only hints shown inside it.
std::vector<InlayHint> estimate_inlay_hints(const syntax::Document& document, const std::vector<EstimateHint>& hints,
                                            const InlayHintOptions& options);

}  // namespace amct::ide
