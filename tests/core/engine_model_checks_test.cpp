// Model-aware checks: a config against the layers of a model.
#include <catch2/catch.hpp>

#include "core/amct_test_support.h"
#include "core/engine/estimate.h"
#include "core/engine/model_checks.h"

namespace amct::engine {
namespace {

const std::vector<ModelLayerInfo> kResnetish = {
    {"conv1", "Conv2d", 1},         {"layer1.0.conv1", "Conv2d", 1}, {"layer1.0.conv2", "Conv2d", 32},
    {"layer1.0.conv3", "Conv2d", 1}, {"fc", "Linear", 1},
};

struct Checked {
  test::CheckedConfig config;
  std::vector<Diagnostic> diagnostics;
  explicit Checked(const std::string& text, const std::vector<ModelLayerInfo>& layers = kResnetish)
      : config(text), diagnostics(check_config_against_model(config.config(), layers)) {}

  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diagnostics) out.push_back(d.code);
    return out;
  }
  std::string text_at(const Diagnostic& d) const {
    return config.document.text().substr(d.range.start, d.range.end - d.range.start);
  }
};

}  // namespace

TEST_CASE("model checks: unknown layer names with did-you-mean", "[engine]") {
  const Checked c(R"(retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }
override_layer_configs { layer_name: "layer1.0.cnv2" retrain_weight_quant_config { arq_retrain { dst_type: INT8 } } }
skip_layers: "fc"
quant_skip_layers: "decoder.head"
skip_layer_types: "LSTM"
)");
  REQUIRE(c.codes() == std::vector<std::string>{"model-unknown-layer", "model-unknown-layer"});
  CHECK(c.text_at(c.diagnostics[0]) == "\"layer1.0.cnv2\"");
  CHECK_THAT(c.diagnostics[0].message, Catch::Contains("did you mean 'layer1.0.conv2'?"));
  CHECK(c.diagnostics[0].severity == Severity::Warning);
  CHECK_THAT(c.diagnostics[1].message, Catch::Contains("'decoder.head' (quant_skip_layers)"));
  CHECK_THAT(c.diagnostics[1].message, !Catch::Contains("did you mean"));
}

TEST_CASE("model checks: channel_wise true reaching a Linear layer", "[engine]") {
  const Checked global(R"(retrain_weight_quant_config { arq_retrain { channel_wise: true } }
)");
  REQUIRE(global.codes() == std::vector<std::string>{"model-channel-wise-linear"});
  CHECK(global.text_at(global.diagnostics[0]) == "true");
  CHECK(global.diagnostics[0].severity == Severity::Error);
  CHECK_THAT(global.diagnostics[0].message, Catch::Contains("(fc)"));
  // A Linear type override with channel_wise: false fixes it; the default is fine too.
  CHECK(Checked(R"(retrain_weight_quant_config { arq_retrain { channel_wise: true } }
override_layer_types { layer_type: "Linear" retrain_weight_quant_config { arq_retrain { channel_wise: false } } }
)").codes().empty());
  CHECK(Checked("retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n").codes().empty());
  const Checked by_name(R"(retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }
override_layer_configs { layer_name: "fc" retrain_weight_quant_config { arq_retrain { channel_wise: true } } }
)");
  CHECK(by_name.codes() == std::vector<std::string>{"model-channel-wise-linear"});
}

TEST_CASE("model checks: filter pruning on a depthwise conv", "[engine]") {
  const Checked c(R"(prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }
)");
  REQUIRE(c.codes() == std::vector<std::string>{"model-depthwise-filter-prune"});
  CHECK(c.text_at(c.diagnostics[0]) == "prune_config");
  CHECK_THAT(c.diagnostics[0].message, Catch::Contains("(layer1.0.conv2)"));
  // 4:2 is not channel pruning.
  CHECK(Checked("prune_config { n_out_of_m_pruner { l1_selective_prune { } } }\n").codes().empty());
}

TEST_CASE("model checks: type override for a type the model lacks", "[engine]") {
  const Checked c(R"(retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }
override_layer_types { layer_type: "ConvTranspose2d" retrain_weight_quant_config { arq_retrain { dst_type: INT8 } } }
)");
  REQUIRE(c.codes() == std::vector<std::string>{"model-type-absent"});
  CHECK(c.text_at(c.diagnostics[0]) == "\"ConvTranspose2d\"");
  CHECK_THAT(c.diagnostics[0].message, Catch::Contains("the model has Conv2d, Linear"));
}

TEST_CASE("model checks: no layer left to compress", "[engine]") {
  const Checked c(R"(retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }
skip_layer_types: "Conv2d"
skip_layers: "fc"
)");
  REQUIRE(c.codes() == std::vector<std::string>{"model-no-layer-left"});
  CHECK_THAT(c.diagnostics[0].message, Catch::Contains("every one of the model's 5 layers"));
  CHECK(Checked("retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\nskip_layers: \"fc\"\n").codes().empty());
  // No model, no verdicts.
  CHECK(check_config_against_model(c.config.config(), {}).empty());
}

}  // namespace amct::engine

namespace amct::engine {

TEST_CASE("estimate cache key follows the effective settings, not their source", "[engine]") {
  std::vector<float> weights(16, 1.0f);
  ModelLayer layer;
  layer.name = "fc";
  layer.type = "Linear";
  layer.weight.shape = {4, 4};
  layer.weight.elements = 16;
  layer.weight.data = reinterpret_cast<const unsigned char*>(weights.data());
  auto key_of = [&](const std::string& text) {
    const test::CheckedConfig config(text);
    return estimate_cache_key(layer, resolve_layer(config.config(), {"fc", "Linear"}));
  };
  const std::string global = key_of("retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n");
  const std::string by_type = key_of(
      "override_layer_types { layer_type: \"Linear\" retrain_weight_quant_config { arq_retrain { dst_type: INT8 } } }\n");
  CHECK(global == by_type);
  CHECK(global != key_of("retrain_weight_quant_config { arq_retrain { dst_type: INT4 } }\n"));
  CHECK(global != key_of("retrain_weight_quant_config { arq_retrain { dst_type: INT8 } }\n"
                         "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 } } }\n"));
}

}  // namespace amct::engine
