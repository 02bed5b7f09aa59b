// Fuzz target (d): the weights loaders of core/engine (safetensors, ONNX, the
// layer manifest, .npy activation samples), then the reference kernels and the
// model checks on whatever loads. Nothing may crash, hang or read out of
// bounds, and what loads must be consistent:
//  - every layer's weight lies inside the file or inside the loader's own
//    converted buffers, its element count is the product of its shape, its
//    rank is at least 2 and its type is set;
//  - the estimate gives one result per layer, with sane figures (errors and
//    energies not negative, cosine in [-1, 1], kept <= total).
//
// Input layout: the first byte chooses the loader and the config, the rest is
// the file. The file is a heap copy of exactly its size
// (MappedFile::copy_of), so a read past its end is an ASan report.
//   selector % 5: 0 safetensors (by name), 1 ONNX (by name), 2 by content,
//                 3 a manifest applied to a small built-in safetensors model,
//                 4 a .npy sample
//   (selector / 5) % 3: the config estimated on the model
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/amct/config.h"
#include "core/engine/compress.h"
#include "core/engine/estimate.h"
#include "core/engine/model_checks.h"
#include "core/engine/weights_model.h"
#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"

using namespace amct;
using namespace amct::engine;

namespace {

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "weights invariant broken: %s\n", what);
  std::abort();
}

// Filter pruning + channel-wise ARQ INT8, per-tensor INT4 for Linear.
constexpr const char* kPruneAndQuantize = R"(
prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 ascend_optimized: true } } }
retrain_weight_quant_config { arq_retrain { channel_wise: true dst_type: INT8 } }
retrain_data_quant_config { ulq_quantize { clip_max_min { clip_max: 6.0 clip_min: -6.0 } } }
override_layer_types { layer_type: "Linear"
  retrain_weight_quant_config { arq_retrain { channel_wise: false dst_type: INT4 } } }
skip_layers: "fc"
)";
// 4:2 selective pruning + ULQ weights.
constexpr const char* kSelective = R"(
prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 update_freq: 0 } } }
retrain_weight_quant_config { ulq_retrain { dst_type: INT8 } }
)";
// Filter pruning without ascend_optimized, a high ratio, nothing quantized.
constexpr const char* kPruneOnly = R"(
prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.9 ascend_optimized: false } } }
)";

struct ParsedConfig {
  syntax::Document document;
  model::BoundDocument bound;
  AmctConfig config;
  explicit ParsedConfig(const char* text)
      : document(text), bound(model::bind(document, schema::amct_schema().root)), config(extract_config(bound.root)) {}
};

const AmctConfig& config_number(unsigned which) {
  static const ParsedConfig configs[] = {ParsedConfig(kPruneAndQuantize), ParsedConfig(kSelective),
                                         ParsedConfig(kPruneOnly)};
  return configs[which % 3].config;
}

// A small valid model the manifests are applied to: conv1 [4,3,3,3],
// layer1.0.conv2 [4,1,3,3] (depthwise under a manifest), fc [2,4], plus a bias.
std::string builtin_safetensors() {
  struct Entry {
    const char* name;
    std::vector<int64_t> shape;
  };
  const Entry entries[] = {{"conv1.weight", {4, 3, 3, 3}}, {"layer1.0.conv2.weight", {4, 1, 3, 3}},
                           {"fc.weight", {2, 4}}, {"fc.bias", {2}}};
  std::string header = "{";
  std::string data;
  for (const Entry& entry : entries) {
    uint64_t count = 1;
    for (int64_t d : entry.shape) count *= static_cast<uint64_t>(d);
    std::string shape;
    for (int64_t d : entry.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    const size_t begin = data.size();
    for (uint64_t i = 0; i < count; ++i) {
      const float value = std::sin(static_cast<float>(i + begin)) * 0.5f;
      data.append(reinterpret_cast<const char*>(&value), 4);
    }
    header += std::string(header.size() > 1 ? "," : "") + "\"" + entry.name + "\":{\"dtype\":\"F32\",\"shape\":[" +
              shape + "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
  }
  header += "}";
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

bool inside(const unsigned char* begin, uint64_t size, const unsigned char* region, uint64_t region_size) {
  const auto b = reinterpret_cast<uintptr_t>(begin);
  const auto r = reinterpret_cast<uintptr_t>(region);
  return b >= r && b - r <= region_size && size <= region_size - (b - r);
}

void check_model(const WeightsModel& model) {
  for (const ModelLayer& layer : model.layers) {
    const TensorView& weight = layer.weight;
    require(weight.shape.size() >= 2, "a layer's weight has rank < 2");
    require(!layer.type.empty(), "a layer has no type");
    require(layer.groups >= 1, "groups < 1");
    const auto count = element_count(weight.shape);
    require(count && *count == weight.elements, "elements differ from the product of the shape");
    const uint64_t bytes = weight.byte_size();
    if (bytes == 0) continue;
    require(weight.data != nullptr, "a non-empty weight without data");
    bool contained = model.file && inside(weight.data, bytes, model.file->data(), model.file->size());
    if (!contained && model.owned) {
      for (const auto& buffer : *model.owned)
        contained = contained || inside(weight.data, bytes, buffer.data(), buffer.size());
    }
    require(contained, "a weight lies outside the file and the loader's buffers");
  }
}

void check_error(const ErrorSums& error) {
  require(!(error.sumsq_ref < 0) && !(error.sumsq_err < 0) && !(error.sumsq_approx < 0) && !(error.max_abs < 0),
          "a negative sum of squares");
  const double cosine = error.cosine();
  require(std::isnan(cosine) || (cosine >= -1.0001 && cosine <= 1.0001), "cosine outside [-1, 1]");
  require(!(error.rel_l2() < 0), "negative relative error");
}

void estimate(const WeightsModel& model, unsigned config_index) {
  if (model.parameter_count() > (1u << 20)) return;  // keep executions fast
  const AmctConfig& config = config_number(config_index);
  EstimateOptions options;
  options.threads = 1;
  const ModelEstimate estimated = estimate_model(config, model, options);
  require(estimated.layers.size() == model.layers.size(), "not one estimate per layer");
  for (const LayerEstimate& layer : estimated.layers) {
    if (layer.error) check_error(*layer.error);
    if (layer.prune_figures) {
      require(layer.prune_figures->kept <= layer.prune_figures->total, "kept more than there is");
      require(!(layer.prune_figures->energy_removed() < 0), "negative energy removed");
    }
    require(layer.parameters_pruned <= layer.parameters, "pruned more parameters than there are");
  }
  std::vector<ModelLayerInfo> infos;
  for (const ModelLayer& layer : model.layers) infos.push_back({layer.name, layer.type, layer.groups});
  (void)check_config_against_model(config, infos);
}

// A loader gives a model or an error, never both or neither; a model must be
// consistent and survive an estimate.
void check_loaded(const LoadResult& loaded, unsigned config_index) {
  require(loaded.model.has_value() != !loaded.error.empty(), "neither a model nor an error (or both)");
  if (!loaded.model) return;
  check_model(*loaded.model);
  estimate(*loaded.model, config_index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const unsigned selector = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const unsigned config_index = selector / 5;

  switch (selector % 5) {
    case 0:
    case 1:
    case 2: {
      static const char* const names[] = {"fuzz.safetensors", "fuzz.onnx", "fuzz.weights"};
      auto file = std::make_shared<const MappedFile>(MappedFile::copy_of(bytes, names[selector % 5]));
      const LoadResult loaded = load_weights(file, SafetensorsLimits{});
      check_loaded(loaded, config_index);
      break;
    }
    case 3: {
      static const std::string model_bytes = builtin_safetensors();
      auto file = std::make_shared<const MappedFile>(MappedFile::copy_of(model_bytes, "builtin.safetensors"));
      const LoadResult loaded =
          load_weights(file, SafetensorsLimits{}, ManifestText{"fuzz.json", std::string(bytes)});
      check_loaded(loaded, config_index);
      break;
    }
    case 4: {
      auto file = std::make_shared<const MappedFile>(MappedFile::copy_of(bytes, "fuzz.npy"));
      const NpyResult sample = read_npy(file);
      require(sample.array.has_value() != !sample.error.empty(), "neither an array nor an error (or both)");
      if (!sample.array) break;
      const TensorView& view = sample.array->view;
      const auto count = element_count(view.shape);
      require(count && *count == view.elements, "elements differ from the product of the shape");
      require(view.byte_size() == 0 || inside(view.data, view.byte_size(), file->data(), file->size()),
              "the array lies outside the file");
      const ErrorSums error = activation_quant_error(view, asymmetric_quant(-6, 6, 8), 8);
      require(!(error.sumsq_ref < 0) && !(error.sumsq_err < 0), "a negative sum of squares");
      break;
    }
  }
  return 0;
}
