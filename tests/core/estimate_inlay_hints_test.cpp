// Error estimates as inlay hints: at the end of the line where each block opens.
#include "core/ide/estimate_inlay_hints.h"

#include <catch2/catch.hpp>

#include "support/annotated.h"

using amct::ide::estimate_inlay_hints;
using amct::ide::EstimateHint;
using amct::ide::InlayHintOptions;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

std::vector<EstimateHint> hints_for(const Annotated& a) {
  std::vector<EstimateHint> hints;
  for (const amct::ByteRange& range : a.ranges) {
    EstimateHint hint;
    hint.range = range;
    hint.label = "≈ SQNR 38.1 dB · rel.err 1.4 % · 2 layers";
    hint.layers = hint.estimated = 2;
    hints.push_back(hint);
  }
  return hints;
}

}  // namespace

TEST_CASE("estimate inlay hints sit at the end of the block's opening line, before trailing blanks",
          "[estimate_hints][inlay-hints]") {
  const Annotated a(
      "[[retrain_weight_quant_config]] { arq_retrain { dst_type: INT8 } }^\n"
      "[[override_layer_configs]] {^  \t\r\n"
      "  layer_name: \"fc\"\n"
      "  retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n"
      "}\n"
      "[[prune_config]] { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }  # last line^");
  const Document document(a.text);
  std::vector<EstimateHint> hints = hints_for(a);
  hints[1].estimated = 1;  // still computing
  const auto inlays = estimate_inlay_hints(document, hints, {});
  REQUIRE(inlays.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(inlays[i].offset == a.cursors[i]);
    CHECK(inlays[i].label == hints[i].label);
  }
  CHECK(inlays[0].tooltip == "Estimated error of the 2 layers this block governs, on the weights of amct.weights");
  CHECK(inlays[1].tooltip == "Estimating in the background");
}

TEST_CASE("estimate inlay hints outside the requested range are left out", "[estimate_hints][inlay-hints]") {
  const Annotated a(
      "[[retrain_weight_quant_config]] { arq_retrain { dst_type: INT8 } }^\n"
      "[[override_layer_configs]] {^\n"
      "  layer_name: \"fc\"\n"
      "}\n");
  const Document document(a.text);
  InlayHintOptions options;
  options.range = amct::ByteRange{a.cursors[1] - 3, a.cursors[1]};
  const auto inlays = estimate_inlay_hints(document, hints_for(a), options);
  REQUIRE(inlays.size() == 1);
  CHECK(inlays[0].offset == a.cursors[1]);
  CHECK(estimate_inlay_hints(document, {}, {}).empty());
}
