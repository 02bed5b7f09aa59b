// Error-estimate hints per governing block, from an estimate cache.
#include <catch2/catch.hpp>

#include "core/amct_test_support.h"
#include "core/ide/estimate_hints.h"
#include "support/annotated.h"
#include "support/temp_dir.h"
#include "support/tiny_model.h"

namespace amct::ide {
namespace {

engine::WeightsModel tiny_model(const test::TempDir& dir) {
  engine::LoadResult loaded = engine::load_weights({dir.write("m.safetensors", test::tiny_model_safetensors()), {}, {}});
  REQUIRE(loaded.model);
  return std::move(*loaded.model);
}

// Fills the cache as the server does: every pending layer estimated.
size_t fill(EstimateCache& cache, const AmctConfig& config, const engine::WeightsModel& model) {
  const std::vector<PendingEstimate> pending = layers_to_estimate(config, model, cache, {});
  for (const PendingEstimate& p : pending)
    cache[p.key] = std::make_shared<engine::LayerEstimate>(engine::estimate_layer(model.layers[p.layer_index], p.resolution, 1));
  return pending.size();
}

}  // namespace

TEST_CASE("estimate hints: one per governing block, with the layers it governs", "[estimate_hints]") {
  test::TempDir dir;
  const engine::WeightsModel model = tiny_model(dir);
  const test::Annotated a(R"([[retrain_weight_quant_config]] { arq_retrain { dst_type: INT8 } }
[[override_layer_configs]] {
  layer_name: "fc"
  retrain_weight_quant_config { arq_retrain { dst_type: INT4 channel_wise: false } }
}
)");
  const test::CheckedConfig checked(a.text);
  const AmctConfig config = checked.config();
  EstimateCache cache;

  SECTION("before the estimates exist, the hints say so") {
    const std::vector<EstimateHint> hints = estimate_hints(config, model, cache, {});
    REQUIRE(hints.size() == 2);
    CHECK(hints[0].label == "≈ estimating… 0/2 layers");
    CHECK(hints[1].label == "≈ estimating… 0/1 layer");
    CHECK(!hints[0].complete());
  }

  SECTION("with the estimates: figures of exactly the governed layers") {
    CHECK(fill(cache, config, model) == 3);
    const std::vector<EstimateHint> hints = estimate_hints(config, model, cache, {});
    REQUIRE(hints.size() == 2);
    CHECK(hints[0].range == a.ranges[0]);
    CHECK(hints[0].layers == 2);
    CHECK(hints[1].range == a.ranges[1]);  // the entry's first line, not its inner block
    CHECK(hints[1].layers == 1);
    CHECK_THAT(hints[0].label, Catch::Matches("≈ SQNR [0-9.]+ dB · rel\\.err [0-9.]+ % · 2 layers"));
    CHECK_THAT(hints[1].label, Catch::Matches("≈ SQNR [0-9.]+ dB · rel\\.err [0-9.]+ % · 1 layer"));
    // The label is summarize_estimates of the governed layers.
    const engine::LayerEstimate fc = engine::estimate_layer(*model.find("fc"), resolve_layer(config, {"fc", "Linear"}), 1);
    CHECK(hints[1].label == estimate_label({fc}));
    // INT4 on fc costs more than INT8 on the convolutions: about 24 dB less SQNR.
    const double int8_sqnr = engine::summarize_estimates({engine::estimate_layer(
        *model.find("conv1"), resolve_layer(config, {"conv1", "Conv2d"}), 1)}).mean_sqnr_db.value();
    CHECK(int8_sqnr - fc.error->sqnr_db() > 15);
  }

  SECTION("an edit recomputes only the layers whose effective config changed") {
    fill(cache, config, model);
    const test::CheckedConfig edited(a.text.substr(0, a.text.find("INT4")) + "INT8" +
                                     a.text.substr(a.text.find("INT4") + 4));
    CHECK(layers_to_estimate(edited.config(), model, cache, {}).size() == 1);
    CHECK(fill(cache, edited.config(), model) == 1);
    CHECK(layers_to_estimate(config, model, cache, {}).empty());  // the old key is still cached
  }
}

TEST_CASE("estimate hints: pruning and skips", "[estimate_hints]") {
  test::TempDir dir;
  const engine::WeightsModel model = tiny_model(dir);
  const test::Annotated a(R"([[prune_config]] { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.5 ascend_optimized: false } } }
regular_prune_skip_layers: "conv1"
)");
  const test::CheckedConfig checked(a.text);
  EstimateCache cache;
  fill(cache, checked.config(), model);
  const std::vector<EstimateHint> hints = estimate_hints(checked.config(), model, cache, {});
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].range == a.range());
  CHECK(hints[0].layers == 2);  // layer1.conv and fc: conv1 is skipped
  CHECK_THAT(hints[0].label, Catch::Matches("≈ rel\\.err [0-9.]+ % · pruned 50\\.0 % · 2 layers"));
}

TEST_CASE("estimate hints: nothing compressed, no hints", "[estimate_hints]") {
  test::TempDir dir;
  const engine::WeightsModel model = tiny_model(dir);
  const test::CheckedConfig checked("batch_num: 2\n");
  CHECK(estimate_hints(checked.config(), model, {}, {}).empty());
  CHECK(layers_to_estimate(checked.config(), model, {}, {}).empty());
}

namespace {

void require_same_figures(const engine::LayerEstimate& a, const engine::LayerEstimate& b) {
  REQUIRE(a.error);
  REQUIRE(b.error);
  CHECK(a.error->sumsq_ref == b.error->sumsq_ref);
  CHECK(a.error->sumsq_err == b.error->sumsq_err);
  CHECK(a.error->dot == b.error->dot);
  CHECK(a.error->sumsq_approx == b.error->sumsq_approx);
  CHECK(a.error->max_abs == b.error->max_abs);
  CHECK(a.weight_quant->bits == b.weight_quant->bits);
  CHECK(a.notes == b.notes);
}

}  // namespace

TEST_CASE("estimate cache: a layer estimated again under another config reuses its weight's scan",
          "[estimate_hints][known-scan]") {
  test::TempDir dir;
  const engine::WeightsModel model = tiny_model(dir);
  const std::string before = "retrain_weight_quant_config { arq_retrain { dst_type: INT8 channel_wise: false } }\n";
  const test::CheckedConfig checked(before);
  EstimateCache cache;
  TensorScanCache scans;
  // As the server does: pending layers with the scans known so far, each
  // estimate's scan kept for its tensor.
  auto fill_with_scans = [&](const AmctConfig& config) {
    std::vector<engine::LayerEstimate> computed;
    for (const PendingEstimate& p : layers_to_estimate(config, model, cache, {}, &scans)) {
      engine::LayerEstimate estimate = estimate_pending(model, p, 1);
      keep_scan(scans, p, estimate);
      cache[p.key] = std::make_shared<engine::LayerEstimate>(estimate);
      computed.push_back(std::move(estimate));
    }
    return computed;
  };
  const std::vector<engine::LayerEstimate> first = fill_with_scans(checked.config());
  REQUIRE(first.size() == 3);
  for (const engine::LayerEstimate& estimate : first) {
    CHECK_FALSE(estimate.used_known_scan);  // nothing known yet: every tensor scanned
    CHECK(estimate.scan);
  }
  CHECK(scans.size() == 3);

  // The edit: per-tensor INT8 -> INT4 (conv1, 3 input channels, stays INT8
  // with a note; a new key all the same), then a clip range added (weights unchanged).
  const std::string int4 = "retrain_weight_quant_config { arq_retrain { dst_type: INT4 channel_wise: false } }\n";
  const std::string clipped =
      int4 + "retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 6.0 clip_min: -1.0 } } }\n";
  for (const std::string& text : {int4, clipped}) {
    CAPTURE(text);
    const test::CheckedConfig edited(text);
    const std::vector<engine::LayerEstimate> again = fill_with_scans(edited.config());
    REQUIRE(again.size() == 3);
    for (const engine::LayerEstimate& estimate : again) {
      CAPTURE(estimate.name);
      CHECK(estimate.used_known_scan);
      const engine::ModelLayer& layer = *model.find(estimate.name);
      // A cold estimate of the new config, with no scan known: the same figures.
      const engine::LayerEstimate cold = engine::estimate_layer(layer, resolve_layer(edited.config(), {layer.name, layer.type}), 1);
      CHECK_FALSE(cold.used_known_scan);
      require_same_figures(estimate, cold);
    }
    CHECK(scans.size() == 3);  // one scan per tensor
  }
  CHECK(layers_to_estimate(checked.config(), model, cache, {}, &scans).empty());
}

}  // namespace amct::ide
