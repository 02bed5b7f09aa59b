#include "core/ide/inlay_hints.h"

#include <catch2/catch.hpp>

#include "core/schema/schema.h"
#include "support/annotated.h"

using amct::ide::inlay_hints;
using amct::ide::InlayHintOptions;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

std::vector<amct::ide::InlayHint> hints_of(const std::string& text, InlayHintOptions options = {}) {
  const Document document(text);
  return inlay_hints(amct::model::bind(document, amct::schema::amct_schema().root), options);
}

}  // namespace

TEST_CASE("inlay hints show the defaults of unset fields after the block opens", "[inlay-hints]") {
  const Annotated a(
      "retrain_weight_quant_config {\n"
      "  arq_retrain {^\n"
      "    channel_wise: true\n"
      "  }\n"
      "}\n"
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune {^ prune_ratio: 0.3 } } }\n");
  const Document document(a.text);
  const auto hints = inlay_hints(amct::model::bind(document, amct::schema::amct_schema().root), {});
  REQUIRE(hints.size() == 2);
  CHECK(hints[0].offset == a.cursors[0]);
  CHECK(hints[0].label == "dst_type: INT8 (default)");
  CHECK(hints[1].offset == a.cursors[1]);
  CHECK(hints[1].label == "ascend_optimized: true (default)");
  CHECK(hints[1].tooltip == "optional bool ascend_optimized = 2 [default = true]");
}

TEST_CASE("no hint for a set field, for the root, without schema or outside the range", "[inlay-hints]") {
  CHECK(hints_of("retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }").empty());
  CHECK(hints_of("batch_num: 3").empty());
  CHECK(hints_of("").empty());
  const Document document("a { b { } }");
  CHECK(inlay_hints(amct::model::bind(document, nullptr), {}).empty());
  InlayHintOptions options;
  options.range = amct::ByteRange{0, 5};
  CHECK(hints_of("prune_config { n_out_of_m_pruner { l1_selective_prune { } } }", options).empty());
  CHECK(hints_of("prune_config { n_out_of_m_pruner { l1_selective_prune { } } }").size() == 2);
}
