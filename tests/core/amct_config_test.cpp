// AmctConfig extraction: blocks, overrides, skip lists, ranges, and the
// "keeps the last" semantics of AMCT's reader (Python text_format.Merge).
#include <catch2/catch.hpp>

#include "core/amct/config.h"
#include "core/amct_test_support.h"
#include "support/annotated.h"
#include "support/printers.h"

using namespace amct;
using amct::test::Annotated;
using amct::test::CheckedConfig;

TEST_CASE("config: global blocks with the ranges of their tokens", "[amct]") {
  const Annotated source(
      "batch_num: [[4]]\n"
      "[[retrain_data_quant_config]] { ulq_quantize { clip_max_min { clip_max: [[6.0]] clip_min: "
      "[[-6.0]] } fixed_min: [[true]] dst_type: [[INT8]] } }\n"
      "retrain_weight_quant_config { [[ulq_retrain]] { dst_type: [[INT4]] channel_wise: "
      "[[false]] } }\n");
  const AmctConfig config = CheckedConfig(source.text).config();
  REQUIRE(config.batch_num);
  CHECK(config.batch_num->value == 4);
  CHECK(config.batch_num->range == source.ranges[0]);
  REQUIRE(config.data);
  CHECK(config.data->field_range == source.ranges[1]);
  CHECK(config.data->has_ulq_quantize);
  REQUIRE(config.data->clip);
  CHECK(config.data->clip->clip_max->value == 6.0);
  CHECK(config.data->clip->clip_max->range == source.ranges[2]);
  CHECK(config.data->clip->clip_min->value == -6.0);
  CHECK(config.data->clip->clip_min->range == source.ranges[3]);
  CHECK(config.data->fixed_min->value);
  CHECK(config.data->fixed_min->range == source.ranges[4]);
  CHECK(config.data->dst_type->value == DataType::Int8);
  CHECK(config.data->dst_type->range == source.ranges[5]);
  REQUIRE(config.weight);
  CHECK(config.weight->algorithm == WeightAlgorithm::UlqRetrain);
  CHECK(config.weight->algorithm_range == source.ranges[6]);
  CHECK(config.weight->dst_type->value == DataType::Int4);
  CHECK(config.weight->dst_type->range == source.ranges[7]);
  CHECK(config.weight->channel_wise->range == source.ranges[8]);
  CHECK_FALSE(config.prune);
  CHECK(config.has_quant_content());
  CHECK_FALSE(config.has_prune_content());
}

TEST_CASE("config: prune blocks of both pruners", "[amct]") {
  const AmctConfig filter =
      CheckedConfig(
          "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.25 "
          "ascend_optimized: false } } }")
          .config();
  REQUIRE(filter.prune);
  CHECK(filter.prune->pruner == PrunerKind::FilterPruner);
  CHECK(filter.prune->algorithm == PruneAlgorithm::BalancedL2NormFilterPrune);
  CHECK(filter.prune->prune_ratio->value == Approx(0.25));
  CHECK_FALSE(filter.prune->ascend_optimized->value);
  const AmctConfig selective =
      CheckedConfig(
          "prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 "
          "update_freq: 3 } } }")
          .config();
  CHECK(selective.prune->pruner == PrunerKind::NOutOfMPruner);
  CHECK(selective.prune->algorithm == PruneAlgorithm::L1SelectivePrune);
  CHECK(selective.prune->n_out_of_m_type->value == "M4N2");
  CHECK(selective.prune->update_freq->value == 3u);
  CHECK(selective.has_prune_content());
  CHECK(CheckedConfig("prune_config {}").config().prune->empty());
  CHECK_FALSE(CheckedConfig("prune_config {}").config().has_prune_content());
  CHECK(CheckedConfig("prune_config {}").config().has_any_prune_config());
}

TEST_CASE("config: overrides by name and type, in source order", "[amct]") {
  const Annotated source(
      "override_layer_types { layer_type: [[\"Conv2d\"]] prune_config {} }\n"
      "override_layer_configs { layer_name: [[\"a\"]] retrain_data_quant_config {} }\n"
      "override_layer_configs { layer_name: [[\"b\"]] }\n");
  const AmctConfig config = CheckedConfig(source.text).config();
  REQUIRE(config.type_overrides.size() == 1);
  REQUIRE(config.name_overrides.size() == 2);
  CHECK(config.type_overrides[0].kind == OverrideKind::ByType);
  CHECK(config.type_overrides[0].key->value == "Conv2d");
  CHECK(config.type_overrides[0].key->range == source.ranges[0]);
  CHECK_FALSE(config.type_overrides[0].has_pruner());
  CHECK(config.name_overrides[0].key->value == "a");
  CHECK(config.name_overrides[0].key->range == source.ranges[1]);
  CHECK(config.name_overrides[0].has_quant_block());
  CHECK(config.name_overrides[1].key->range == source.ranges[2]);
  CHECK_FALSE(config.name_overrides[1].has_quant_block());
}

TEST_CASE("config: thousands of overrides (read on two threads) keep source order and content", "[amct]") {
  // Above 4096 entries read_overrides splits them into two halves on two
  // threads; an odd count makes the halves unequal.
  constexpr int kEntries = 5001;
  std::string text = "retrain_data_quant_config { ulq_quantize { dst_type: INT8 } }\n";
  std::vector<uint32_t> block_starts;
  for (int i = 0; i < kEntries; ++i) {
    text += "override_layer_configs ";
    block_starts.push_back(static_cast<uint32_t>(text.size()));
    text += "{ layer_name: \"L" + std::to_string(i) + "\" retrain_weight_quant_config { arq_retrain { dst_type: " +
            (i % 3 == 0 ? "INT4" : "INT8") + " } }" + (i % 7 == 0 ? " prune_config { filter_pruner {} }" : "") +
            " }\n";
  }
  const CheckedConfig checked(text);
  const AmctConfig config = checked.config();
  REQUIRE(config.name_overrides.size() == static_cast<size_t>(kEntries));
  int mismatches = 0;
  for (int i = 0; i < kEntries; ++i) {
    const OverrideEntry& entry = config.name_overrides[static_cast<size_t>(i)];
    const std::string name = std::string("L").append(std::to_string(i));
    const std::string written = std::string("\"").append(name).append("\"");
    const bool same = entry.kind == OverrideKind::ByName && entry.block_range.start == block_starts[static_cast<size_t>(i)] &&
                      entry.key && entry.key->value == name &&
                      text.substr(entry.key->range.start, entry.key->range.end - entry.key->range.start) == written &&
                      entry.weight && entry.weight->dst_type &&
                      entry.weight->dst_type->value == (i % 3 == 0 ? DataType::Int4 : DataType::Int8) &&
                      entry.has_pruner() == (i % 7 == 0) && !entry.data;
    if (!same && ++mismatches <= 3) FAIL_CHECK("override entry " << i << " differs");
  }
  CHECK(mismatches == 0);
  REQUIRE(config.data);
  CHECK(config.data->dst_type->value == DataType::Int8);
}

TEST_CASE("config: skip entries of every list in source order, lists flattened", "[amct]") {
  const AmctConfig config =
      CheckedConfig(
          "quant_skip_types: \"GRU\"\nskip_layers: [\"a\", \"b\"]\nregular_prune_skip_types: "
          "\"Linear\"\nskip_layer_types: \"LSTM\"\nquant_skip_layers: \"c\"\n"
          "regular_prune_skip_layers: \"d\"\n")
          .config();
  REQUIRE(config.skips.size() == 7);
  CHECK(config.skips[0].list == SkipList::QuantSkipTypes);
  CHECK(config.skips[1].value == "a");
  CHECK(config.skips[2].value == "b");
  CHECK(config.skips[3].list == SkipList::RegularPruneSkipTypes);
  CHECK(config.skips[4].list == SkipList::SkipLayerTypes);
  CHECK(config.skips[5].list == SkipList::QuantSkipLayers);
  CHECK(config.skips[6].list == SkipList::RegularPruneSkipLayers);
}

TEST_CASE("config: skip entries among thousands of root fields (read beside the overrides) keep source order",
          "[amct]") {
  // From 4096 root fields the skip lists are read on a thread of their own
  // while the overrides are read; their order and content must not change.
  std::string text = "batch_num: 2\n";
  std::vector<std::pair<SkipList, std::string>> expected;
  const auto named = [](const char* prefix, int i) { return std::string(prefix).append(std::to_string(i)); };
  for (int i = 0; i < 3000; ++i) {
    text.append("override_layer_configs { layer_name: \"").append(named("L", i)).append("\" }\n");
    if (i % 3 == 0) {
      text.append("skip_layers: [\"").append(named("s", i)).append("\", \"").append(named("t", i)).append("\"]\n");
      expected.emplace_back(SkipList::SkipLayers, named("s", i));
      expected.emplace_back(SkipList::SkipLayers, named("t", i));
    }
    if (i % 5 == 0) {
      text.append("quant_skip_types: \"").append(named("T", i)).append("\"\n");
      expected.emplace_back(SkipList::QuantSkipTypes, named("T", i));
    }
  }
  const CheckedConfig checked(text);
  REQUIRE(checked.bound.root.fields.size() >= 4096);
  const AmctConfig config = checked.config();
  REQUIRE(config.batch_num);
  CHECK(config.batch_num->value == 2);
  CHECK(config.name_overrides.size() == 3000);
  REQUIRE(config.skips.size() == expected.size());
  int mismatches = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const SkipEntry& skip = config.skips[i];
    const std::string written = std::string("\"").append(expected[i].second).append("\"");
    const bool same = skip.list == expected[i].first && skip.value == expected[i].second &&
                      text.substr(skip.range.start, skip.range.end - skip.range.start) == written;
    if (!same && ++mismatches <= 3) FAIL_CHECK("skip entry " << i << " differs");
  }
  CHECK(mismatches == 0);
}

TEST_CASE("config: a singular scalar given twice keeps the last", "[amct]") {
  const Annotated source("batch_num: 3\nbatch_num: [[5]]\n");
  const AmctConfig config = CheckedConfig(source.text).config();
  CHECK(config.batch_num->value == 5);
  CHECK(config.batch_num->range == source.range());
}

TEST_CASE("config: a singular message given twice is merged", "[amct]") {
  // Python's Merge reuses the sub-message: fields of both occurrences count,
  // later values win.
  const AmctConfig config =
      CheckedConfig(
          "retrain_data_quant_config { ulq_quantize { dst_type: INT4 fixed_min: true } }\n"
          "retrain_data_quant_config { ulq_quantize { dst_type: INT8 } }\n")
          .config();
  CHECK(config.data->dst_type->value == DataType::Int8);
  REQUIRE(config.data->fixed_min);
  CHECK(config.data->fixed_min->value);
}

TEST_CASE("config: a oneof member replaces the one set before it", "[amct]") {
  const AmctConfig prune =
      CheckedConfig(
          "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } "
          "n_out_of_m_pruner { l1_selective_prune {} } }")
          .config();
  CHECK(prune.prune->pruner == PrunerKind::NOutOfMPruner);
  CHECK_FALSE(prune.prune->prune_ratio);
  // Across two occurrences of the parent too, and back again: the first
  // member's earlier content is gone.
  const AmctConfig weight =
      CheckedConfig(
          "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n"
          "retrain_weight_quant_config { ulq_retrain { } }\n"
          "retrain_weight_quant_config { arq_retrain { channel_wise: true } }\n")
          .config();
  CHECK(weight.weight->algorithm == WeightAlgorithm::ArqRetrain);
  CHECK_FALSE(weight.weight->dst_type);
  CHECK(weight.weight->channel_wise->value);
}

TEST_CASE("config: unknown fields and bad values are ignored", "[amct]") {
  const CheckedConfig checked(
      "batch_num: -1\nbogus: 3\nretrain_weight_quant_config { arq_retrain { dst_type: INT7 } }");
  const AmctConfig config = checked.config();
  CHECK_FALSE(config.batch_num);
  REQUIRE(config.weight);
  CHECK_FALSE(config.weight->dst_type);
  CHECK_FALSE(checked.bound.diagnostics.empty());  // the binder reports them
}
