// estimate_model's scheduling (big tensors split over the threads, small
// ones one per thread, each worker naming its next layer so the kernels can
// fetch it meanwhile) must not change a figure: every layer's figures equal
// those of estimate_layer alone, on one thread, whatever the thread count.
#include <catch2/catch.hpp>

#include "core/amct_test_support.h"
#include "core/engine/estimate.h"
#include "core/engine_test_support.h"

namespace amct::engine {
namespace {

struct InMemoryModel {
  std::vector<std::vector<float>> storage;
  WeightsModel model;
};

// Small conv and linear layers, and one above estimate_model's split size
// (2^20 elements), with an outlier somewhere in each.
InMemoryModel mixed_model() {
  const std::vector<std::vector<int64_t>> shapes = {{64, 3, 7, 7},  {64, 64, 1, 1}, {64, 64, 3, 3}, {256, 64, 1, 1},
                                                    {128, 256, 1, 1}, {1024, 1040}, {128, 128, 3, 3}, {512, 128},
                                                    {1000, 512},    {33, 7, 5, 5}};
  InMemoryModel out;
  out.storage.reserve(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    size_t count = 1;
    for (int64_t d : shapes[i]) count *= size_t(d);
    std::vector<float> w = test::random_weights(count, 900 + uint32_t(i));
    w[(count * (i + 1)) / (shapes.size() + 1)] *= 11.0f;
    out.storage.push_back(std::move(w));
    ModelLayer layer;
    layer.name = "layer" + std::to_string(i);
    layer.type = type_from_rank(shapes[i].size());
    layer.weight = test::view_of(out.storage.back(), shapes[i]);
    layer.weight.name = layer.name + ".weight";
    out.model.layers.push_back(std::move(layer));
  }
  out.model.format = "synthetic";
  return out;
}

}  // namespace

TEST_CASE("estimate_model gives every layer the figures of estimate_layer alone, on any thread count",
          "[engine][estimate-threads]") {
  const InMemoryModel m = mixed_model();
  REQUIRE(m.model.layers[5].weight.elements >= (uint64_t{1} << 20));  // the split path
  for (const char* text :
       {"retrain_weight_quant_config { arq_retrain { channel_wise: false dst_type: INT8 } }\n",
        "retrain_weight_quant_config { arq_retrain { channel_wise: true dst_type: INT4 } }\n",
        "retrain_weight_quant_config { arq_retrain { channel_wise: false dst_type: INT8 } }\n"
        "prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 } } }\n"}) {
    const test::CheckedConfig checked(text);
    const AmctConfig config = checked.config();
    std::vector<LayerEstimate> alone;
    for (const ModelLayer& layer : m.model.layers) {
      alone.push_back(estimate_layer(layer, resolve_layer(config, {layer.name, layer.type}), 1));
    }
    for (unsigned threads : {1u, 2u, 3u}) {
      EstimateOptions options;
      options.threads = threads;
      const ModelEstimate estimate = estimate_model(config, m.model, options);
      REQUIRE(estimate.layers.size() == alone.size());
      for (size_t i = 0; i < alone.size(); ++i) {
        CAPTURE(text, threads, i);
        REQUIRE(estimate.layers[i].error);
        REQUIRE(alone[i].error);
        test::require_same_sums(*estimate.layers[i].error, *alone[i].error);
      }
    }
  }
}

TEST_CASE("per-tensor ARQ's next-tensor hint changes no figure", "[engine][arq-tensor]") {
  // A tensor scanned whole (two-pass) fetches the caller's next tensor while
  // it quantizes: larger, smaller or absent, the figures stay the same.
  const std::vector<float> w = test::random_weights(96 * 300, 31);
  const std::vector<float> small = test::random_weights(1000, 32);
  const std::vector<float> large = test::random_weights(96 * 300 * 5, 33);
  const TensorView view = test::view_of(w, {96, 300});
  for (bool prune : {false, true}) {
    CompressSpec spec;
    spec.quant = QuantSpec{8, false};
    if (prune) spec.prune.kind = PruneKind::Selective4of2;
    spec.two_pass_max_bytes = uint64_t{1} << 40;
    std::vector<float> plain_out(w.size()), hinted_out(w.size());
    spec.output = plain_out.data();
    const CompressResult plain = compress_weight(view, spec);
    REQUIRE(plain.error);
    for (const std::vector<float>* next : {&small, &large}) {
      for (unsigned threads : {1u, 2u}) {
        CAPTURE(prune, next->size(), threads);
        spec.threads = threads;
        spec.next_tensor = reinterpret_cast<const unsigned char*>(next->data());
        spec.next_tensor_bytes = next->size() * sizeof(float);
        spec.output = hinted_out.data();
        const CompressResult hinted = compress_weight(view, spec);
        REQUIRE(hinted.error);
        test::require_same_sums(*hinted.error, *plain.error);
        CHECK(hinted_out == plain_out);
      }
    }
  }
}

}  // namespace amct::engine
