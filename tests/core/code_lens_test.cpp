#include "core/ide/code_lens.h"

#include <catch2/catch.hpp>

#include "core/schema/schema.h"
#include "support/annotated.h"
#include "support/printers.h"

using amct::ide::code_lenses;
using amct::syntax::Document;
using amct::test::Annotated;

namespace {

std::vector<amct::ide::CodeLens> lenses_of(const std::string& text) {
  const Document document(text);
  return code_lenses(amct::model::bind(document, amct::schema::amct_schema().root), {});
}

}  // namespace

TEST_CASE("code lens above a name override: what wins and where from", "[code-lens]") {
  const Annotated a(
      "retrain_weight_quant_config { arq_retrain { channel_wise: true dst_type: INT8 } }\n"
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n"
      "[[override_layer_configs]] {\n"
      "  layer_name: \"layer1\"\n"
      "  retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 3.0 clip_min: -3.0 } dst_type: INT4 } }\n"
      "}\n");
  const Document document(a.text);
  const auto lenses = code_lenses(amct::model::bind(document, amct::schema::amct_schema().root), {});
  REQUIRE(lenses.size() == 3);
  CHECK(lenses[2].range == a.range());
  CHECK(lenses[2].title ==
        "data: ULQ INT4 clip [-3, 3] (this block) · weight: ARQ INT8 (default — not inherited from global) · "
        "prune: filter 0.3 (global)");
  CHECK(lenses[0].title == "shadowed by 1 name override");
  CHECK(lenses[1].title == "applies to every prunable layer");
}

TEST_CASE("code lens above a type override and global blocks with skip lists", "[code-lens]") {
  const auto lenses = lenses_of(
      "retrain_data_quant_config { ulq_quantize { dst_type: INT8 } }\n"
      "skip_layers: \"fc\"\n"
      "quant_skip_types: \"LSTM\"\n"
      "override_layer_types {\n"
      "  layer_type: \"Conv2d\"\n"
      "  retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n"
      "  prune_config { n_out_of_m_pruner { l1_selective_prune { update_freq: 2 } } }\n"
      "}\n");
  REQUIRE(lenses.size() == 2);
  CHECK(lenses[0].title == "shadowed by 1 type override · skips skip_layers: fc; quant_skip_types: LSTM");
  CHECK(lenses[1].title ==
        "data: ULQ INT8 (default — not inherited from global) · weight: ARQ INT4 per-channel (this block) · "
        "prune: 4:2 every 2 batches (this block)");
}

TEST_CASE("code lens: skipped layers, non-AMCT schemas and broken text", "[code-lens]") {
  const auto skipped = lenses_of(
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n"
      "regular_prune_skip_layers: \"head\"\n"
      "override_layer_configs { layer_name: \"head\" prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.5 } } } }\n");
  REQUIRE(skipped.size() == 2);
  // A prune-only config: no quantization at all (compressed API works it out from the content).
  CHECK(skipped[1].title == "quant: off · prune: skipped (regular_prune_skip_layers)");
  const Document other("a: 1");
  CHECK(code_lenses(amct::model::bind(other, nullptr), {}).empty());
  CHECK(lenses_of("override_layer_configs { layer_name: ").empty());
}

TEST_CASE("code lens: repeated keys show the last entry; skips and pruning elsewhere count", "[code-lens]") {
  // No global blocks: only the overrides hold quantization and pruning content.
  const auto lenses = lenses_of(
      "skip_layers: \"a\"\n"
      "regular_prune_skip_types: \"Linear\"\n"
      "override_layer_configs { layer_name: \"a\" retrain_data_quant_config { ulq_quantize { dst_type: INT4 } } }\n"
      "override_layer_configs { layer_name: \"b\" prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.5 } } } }\n"
      "override_layer_configs { layer_name: \"a\" retrain_weight_quant_config { arq_retrain { dst_type: INT4 } } }\n"
      "override_layer_types { layer_type: \"Linear\" retrain_data_quant_config { ulq_quantize { dst_type: INT8 } } }\n");
  REQUIRE(lenses.size() == 4);
  for (const auto& lens : lenses) UNSCOPED_INFO(lens.title);
  // Both entries for "a" resolve to the last one; an override beats the skip for quantization.
  CHECK(lenses[0].title == "data: ULQ INT8 (default) · weight: ARQ INT4 (name override) · prune: skipped (skip_layers)");
  CHECK(lenses[2].title == "data: ULQ INT8 (default) · weight: ARQ INT4 (this block) · prune: skipped (skip_layers)");
  CHECK(lenses[1].title == "data: ULQ INT8 (default) · weight: ARQ INT8 (default) · prune: filter 0.5 (this block)");
  CHECK(lenses[3].title == "data: ULQ INT8 (this block) · weight: ARQ INT8 per-tensor (default) · prune: skipped (regular_prune_skip_types)");
}
