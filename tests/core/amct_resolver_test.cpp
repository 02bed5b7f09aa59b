// The precedence resolver: one test per behaviour of AMCT_FACTS.md "Precedence".
#include <catch2/catch.hpp>

#include "core/amct/resolver.h"
#include "core/amct_test_support.h"

using namespace amct;
using amct::test::CheckedConfig;

namespace {

struct Resolved {
  CheckedConfig checked;
  LayerResolution layer;

  Resolved(const std::string& text, const std::string& name,
           std::optional<std::string> type = std::nullopt, ResolveOptions options = {})
      : checked(text), layer(resolve_layer(checked.config(), {name, std::move(type)}, options)) {}

  // 1-based line of a setting's source, 0 for defaults.
  uint32_t line(const SettingSource& source) const {
    return source.range ? checked.document.line_column_at(source.range->start).line : 0;
  }
};

const char* kGlobal =
    "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 6 clip_min: -6 } "
    "fixed_min: true } }\n"                                                      // line 1
    "retrain_weight_quant_config { arq_retrain { channel_wise: true } }\n"        // line 2
    "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n";  // 3

}  // namespace

TEST_CASE("resolve: a layer without overrides gets the global blocks", "[resolve]") {
  const Resolved r(kGlobal, "layer1.conv", "Conv2d");
  REQUIRE(r.layer.quant.enabled);
  const ResolvedDataQuant& data = *r.layer.quant.data;
  CHECK(data.source.block == SourceBlock::Global);
  CHECK(r.line(data.source) == 1);
  CHECK(data.dst_type == DataType::Int8);
  CHECK(data.clip_max == 6.0);
  CHECK(data.clip_min == -6.0);
  CHECK(data.fixed_min == true);
  const ResolvedWeightQuant& weight = *r.layer.quant.weight;
  CHECK(weight.source.block == SourceBlock::Global);
  CHECK(r.line(weight.source) == 2);
  CHECK(weight.algorithm == WeightAlgorithm::ArqRetrain);
  CHECK(weight.channel_wise == true);
  REQUIRE(r.layer.prune.enabled);
  CHECK(r.layer.prune.source->block == SourceBlock::Global);
  CHECK(r.line(*r.layer.prune.source) == 3);
  CHECK(r.layer.prune.prune_ratio == Approx(0.3));
  CHECK(r.layer.prune.ascend_optimized == true);  // default
}

TEST_CASE("resolve: name override beats type override beats global", "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "override_layer_types { layer_type: \"Conv2d\" "
                           "retrain_weight_quant_config { ulq_retrain { dst_type: INT4 } } }\n"  // 4
                           "override_layer_configs { layer_name: \"conv1\" "
                           "retrain_weight_quant_config { arq_retrain { channel_wise: false } } }\n";  // 5
  const Resolved named(text, "conv1", "Conv2d");
  CHECK(named.layer.quant.weight->source.block == SourceBlock::OverrideLayerConfigs);
  CHECK(named.line(named.layer.quant.weight->source) == 5);
  CHECK(named.layer.quant.weight->dst_type == DataType::Int8);
  CHECK(named.layer.quant.weight->channel_wise == false);

  const Resolved typed(text, "conv2", "Conv2d");
  CHECK(typed.layer.quant.weight->source.block == SourceBlock::OverrideLayerTypes);
  CHECK(typed.line(typed.layer.quant.weight->source) == 4);
  CHECK(typed.layer.quant.weight->algorithm == WeightAlgorithm::UlqRetrain);
  CHECK(typed.layer.quant.weight->dst_type == DataType::Int4);

  const Resolved other(text, "fc", "Linear");
  CHECK(other.layer.quant.weight->source.block == SourceBlock::Global);
}

TEST_CASE("resolve: the name override's quant blocks are not merged with the type's",
          "[resolve]") {
  // The type override sets a data clip range; the name override sets weights only:
  // the layer's data block is the default, not the type override's or global's.
  const std::string text = std::string(kGlobal) +
                           "override_layer_types { layer_type: \"Conv2d\" retrain_data_quant_config "
                           "{ ulq_quantize { clip_max_min { clip_max: 2 clip_min: -2 } } } }\n"
                           "override_layer_configs { layer_name: \"conv1\" "
                           "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } } }\n";
  const Resolved r(text, "conv1", "Conv2d");
  CHECK(r.layer.quant.weight->source.block == SourceBlock::OverrideLayerConfigs);
  CHECK(r.layer.quant.data->source.block == SourceBlock::Default);
  CHECK_FALSE(r.layer.quant.data->clip_max);
}

TEST_CASE("resolve: a block missing from the chosen entry gets the default, not the global",
          "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "override_layer_types { layer_type: \"Conv2d\" "
                           "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } } }\n";
  const Resolved r(text, "conv2", "Conv2d");
  const ResolvedDataQuant& data = *r.layer.quant.data;
  CHECK(data.source.block == SourceBlock::Default);
  CHECK_FALSE(data.source.range);
  CHECK(data.algorithm == "ulq_quantize");
  CHECK(data.dst_type == DataType::Int8);
  CHECK_FALSE(data.clip_max);  // the global clip range does not apply
  CHECK_FALSE(data.clip_min);
  CHECK_FALSE(data.fixed_min);
  CHECK(r.layer.quant.weight->source.block == SourceBlock::OverrideLayerTypes);
  CHECK_FALSE(r.layer.notes.empty());
}

TEST_CASE("resolve: default weights are ARQ INT8 with the type's channel_wise default",
          "[resolve]") {
  const std::string text =
      "retrain_data_quant_config { ulq_quantize {} }\n"
      "override_layer_types { layer_type: \"Linear\" retrain_data_quant_config { ulq_quantize "
      "{} } }\n"
      "override_layer_types { layer_type: \"Conv2d\" retrain_data_quant_config { ulq_quantize "
      "{} } }\n";
  const Resolved linear(text, "fc", "Linear");
  const ResolvedWeightQuant& weight = *linear.layer.quant.weight;
  CHECK(weight.source.block == SourceBlock::Default);
  CHECK(weight.algorithm == WeightAlgorithm::ArqRetrain);
  CHECK(weight.dst_type == DataType::Int8);
  CHECK(weight.channel_wise == false);
  CHECK(weight.channel_wise_is_default);
  const Resolved conv(text, "conv", "Conv2d");
  CHECK(conv.layer.quant.weight->channel_wise == true);
  const Resolved untyped(text, "x");
  CHECK(untyped.layer.quant.weight->source.block == SourceBlock::Default);
  CHECK_FALSE(untyped.layer.quant.weight->channel_wise);  // unknown without a type
}

TEST_CASE("resolve: a name entry holding only prune_config still decides quantization",
          "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "override_layer_types { layer_type: \"Conv2d\" "
                           "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } } }\n"
                           "override_layer_configs { layer_name: \"conv1\" prune_config { "
                           "filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.5 } } "
                           "} }\n";
  const Resolved r(text, "conv1", "Conv2d");
  REQUIRE(r.layer.quant.enabled);
  CHECK(r.layer.quant.data->source.block == SourceBlock::Default);
  CHECK(r.layer.quant.weight->source.block == SourceBlock::Default);
  CHECK(r.layer.quant.weight->dst_type == DataType::Int8);  // not the type override's INT4
  CHECK(r.layer.prune.source->block == SourceBlock::OverrideLayerConfigs);
  CHECK(r.layer.prune.prune_ratio == Approx(0.5));
}

TEST_CASE("resolve: quantization: an override wins over a skip entry", "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "skip_layers: \"conv1\"\nquant_skip_types: \"Conv2d\"\n"
                           "override_layer_configs { layer_name: \"conv1\" "
                           "retrain_weight_quant_config { arq_retrain { dst_type: INT8 } } }\n"
                           "override_layer_types { layer_type: \"Linear\" "
                           "retrain_weight_quant_config { arq_retrain {} } }\n"
                           "quant_skip_layers: \"fc\"\n";
  const Resolved named(text, "conv1", "Conv2d");
  CHECK(named.layer.quant.enabled);
  CHECK(named.layer.quant.weight->source.block == SourceBlock::OverrideLayerConfigs);
  const Resolved typed(text, "fc", "Linear");
  CHECK(typed.layer.quant.enabled);
  CHECK(typed.layer.quant.weight->source.block == SourceBlock::OverrideLayerTypes);
  REQUIRE(typed.layer.skipped_by.size() == 1);
  CHECK(typed.layer.skipped_by[0].list == SkipList::QuantSkipLayers);
  CHECK(typed.layer.skipped_by[0].disables.empty());  // the override won
}

TEST_CASE("resolve: a skip entry turns quantization off when no override names the layer",
          "[resolve]") {
  const std::string text = std::string(kGlobal) + "quant_skip_types: \"Conv2d\"\n";
  const Resolved r(text, "conv2", "Conv2d");
  CHECK_FALSE(r.layer.quant.enabled);
  CHECK_FALSE(r.layer.quant.data);
  REQUIRE(r.layer.skipped_by.size() == 1);
  CHECK(r.layer.skipped_by[0].list == SkipList::QuantSkipTypes);
  CHECK(r.layer.skipped_by[0].disables == std::vector<ResolvedFeature>{ResolvedFeature::Quantization});
  CHECK(r.layer.prune.enabled);  // quant_skip_types does not affect pruning
}

TEST_CASE("resolve: skip_layers is the union of both features' skip lists", "[resolve]") {
  const Resolved r(std::string(kGlobal) + "skip_layers: \"conv1\"\n", "conv1", "Conv2d");
  CHECK_FALSE(r.layer.quant.enabled);
  CHECK_FALSE(r.layer.prune.enabled);
  REQUIRE(r.layer.skipped_by.size() == 1);
  CHECK(r.layer.skipped_by[0].disables ==
        std::vector<ResolvedFeature>{ResolvedFeature::Quantization, ResolvedFeature::Pruning});
}

TEST_CASE("resolve: type skip lists match only when the type is given", "[resolve]") {
  const std::string text = std::string(kGlobal) + "skip_layer_types: \"Conv2d\"\n";
  CHECK_FALSE(Resolved(text, "conv1", "Conv2d").layer.quant.enabled);
  CHECK(Resolved(text, "conv1").layer.quant.enabled);
}

TEST_CASE("resolve: pruning: a skip entry wins over an override", "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "regular_prune_skip_layers: \"conv1\"\n"
                           "override_layer_configs { layer_name: \"conv1\" prune_config { "
                           "filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.5 } } "
                           "} }\n";
  const Resolved r(text, "conv1", "Conv2d");
  CHECK_FALSE(r.layer.prune.enabled);
  CHECK_FALSE(r.layer.prune.source);
  CHECK(r.layer.quant.enabled);  // the name entry still decides quantization
  REQUIRE(r.layer.skipped_by.size() == 1);
  CHECK(r.layer.skipped_by[0].disables == std::vector<ResolvedFeature>{ResolvedFeature::Pruning});
}

TEST_CASE("resolve: an empty override prune_config falls back to the global one",
          "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "override_layer_configs { layer_name: \"conv1\" prune_config {} }\n";
  const Resolved r(text, "conv1", "Conv2d");
  REQUIRE(r.layer.prune.enabled);
  CHECK(r.layer.prune.source->block == SourceBlock::Global);
  CHECK(r.layer.prune.prune_ratio == Approx(0.3));
}

TEST_CASE("resolve: an absent name prune_config falls back to the type override's",
          "[resolve]") {
  const std::string text = std::string(kGlobal) +
                           "override_layer_types { layer_type: \"Conv2d\" prune_config { "
                           "filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.6 "
                           "ascend_optimized: false } } } }\n"
                           "override_layer_configs { layer_name: \"conv1\" "
                           "retrain_weight_quant_config { arq_retrain {} } }\n";
  const Resolved r(text, "conv1", "Conv2d");
  REQUIRE(r.layer.prune.enabled);
  CHECK(r.layer.prune.source->block == SourceBlock::OverrideLayerTypes);
  CHECK(r.line(*r.layer.prune.source) == 4);
  CHECK(r.layer.prune.prune_ratio == Approx(0.6));
  CHECK(r.layer.prune.ascend_optimized == false);
  // Quantization, by contrast, comes from the name entry only.
  CHECK(r.layer.quant.weight->source.block == SourceBlock::OverrideLayerConfigs);
}

TEST_CASE("resolve: pruning only for layer types the algorithm can prune", "[resolve]") {
  CHECK_FALSE(Resolved(kGlobal, "lstm", "LSTM").layer.prune.enabled);
  CHECK_FALSE(Resolved(kGlobal, "deconv", "ConvTranspose2d").layer.prune.enabled);
  CHECK(Resolved(kGlobal, "fc", "Linear").layer.prune.enabled);
  const char* selective = "prune_config { n_out_of_m_pruner { l1_selective_prune {} } }\n";
  const Resolved deconv(selective, "deconv", "ConvTranspose2d");
  REQUIRE(deconv.layer.prune.enabled);
  CHECK(deconv.layer.prune.algorithm == PruneAlgorithm::L1SelectivePrune);
  CHECK(deconv.layer.prune.n_out_of_m_type == "M4N2");  // default
  CHECK(deconv.layer.prune.update_freq == 0u);            // default
  CHECK_FALSE(deconv.layer.prune.prune_ratio);
  CHECK_FALSE(Resolved(selective, "gru", "GRU").layer.prune.enabled);
}

TEST_CASE("resolve: layer types AMCT does not quantize are not quantized", "[resolve]") {
  const Resolved r(kGlobal, "bn1", "BatchNorm2d");
  CHECK_FALSE(r.layer.quant.enabled);
  CHECK_FALSE(r.layer.prune.enabled);
  CHECK_FALSE(r.layer.notes.empty());
}

TEST_CASE("resolve: a prune-only config does not quantize, a quant-only one does not prune",
          "[resolve]") {
  const Resolved prune_only(
      "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }",
      "conv", "Conv2d");
  CHECK_FALSE(prune_only.layer.quant.enabled);
  CHECK(prune_only.layer.prune.enabled);
  const Resolved quant_only("retrain_weight_quant_config { arq_retrain {} }", "conv", "Conv2d");
  CHECK(quant_only.layer.quant.enabled);
  CHECK_FALSE(quant_only.layer.prune.enabled);
  CHECK(quant_only.layer.prune.algorithm == PruneAlgorithm::None);
}

TEST_CASE("resolve: API mode quant quantizes with defaults and never prunes", "[resolve]") {
  ResolveOptions options;
  options.api = AmctApi::Quant;
  const Resolved r(
      "batch_num: 2\nprune_config { filter_pruner { balanced_l2_norm_filter_prune { "
      "prune_ratio: 0.3 } } }",
      "conv", "Conv2d", options);
  REQUIRE(r.layer.quant.enabled);
  CHECK(r.layer.quant.data->source.block == SourceBlock::Default);
  CHECK(r.layer.quant.weight->source.block == SourceBlock::Default);
  CHECK_FALSE(r.layer.prune.enabled);
}

TEST_CASE("resolve: within a block the last value wins and oneof members replace each other",
          "[resolve]") {
  const Resolved r(
      "retrain_weight_quant_config { arq_retrain { dst_type: INT4 } ulq_retrain { channel_wise: "
      "false } }\n"
      "retrain_data_quant_config { ulq_quantize { fixed_min: true } }\n"
      "retrain_data_quant_config { ulq_quantize { fixed_min: false dst_type: INT8 } }\n",
      "conv", "Conv2d");
  CHECK(r.layer.quant.weight->algorithm == WeightAlgorithm::UlqRetrain);
  CHECK(r.layer.quant.weight->dst_type == DataType::Int8);  // the ARQ block was cleared
  CHECK(r.layer.quant.weight->channel_wise == false);
  CHECK(r.layer.quant.data->fixed_min == false);
  CHECK(r.line(r.layer.quant.data->source) == 3);
}

TEST_CASE("resolve: channel_wise true on a Linear layer is explained", "[resolve]") {
  const Resolved r("retrain_weight_quant_config { arq_retrain { channel_wise: true } }", "fc",
                   "Linear");
  CHECK(r.layer.quant.weight->channel_wise == true);
  bool explained = false;
  for (const std::string& note : r.layer.notes) {
    explained |= note.find("can not be channelwised") != std::string::npos;
  }
  CHECK(explained);
}

TEST_CASE("resolve: the realistic quant example", "[resolve]") {
  const Resolved conv(test::read_source_file("examples/quant.cfg"), "layer1.0.conv1", "Conv2d");
  // The name override sets the data block; the weights are the default, not
  // the Conv2d type override's INT4.
  CHECK(conv.layer.quant.data->source.block == SourceBlock::OverrideLayerConfigs);
  CHECK(conv.layer.quant.data->clip_max == 3.0);
  CHECK(conv.layer.quant.weight->source.block == SourceBlock::Default);
  CHECK(conv.layer.quant.weight->dst_type == DataType::Int8);
  const Resolved other(test::read_source_file("examples/quant.cfg"), "layer2.0.conv1", "Conv2d");
  CHECK(other.layer.quant.weight->dst_type == DataType::Int4);
  CHECK(other.layer.quant.data->source.block == SourceBlock::Default);
  const Resolved fc(test::read_source_file("examples/quant.cfg"), "fc", "Linear");
  CHECK_FALSE(fc.layer.quant.enabled);
}

TEST_CASE("resolve: INT4 weights mention AMCT's silent INT8 fallback", "[resolve]") {
  const Resolved r("retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }", "conv",
                   "Conv2d");
  CHECK(r.layer.quant.weight->dst_type == DataType::Int4);
  bool explained = false;
  for (const std::string& note : r.layer.notes) {
    explained |= note.find("odd number of input channels") != std::string::npos;
  }
  CHECK(explained);
}
