#pragma once
// Error-estimate hints: above each block that governs layers of the loaded
// model (an override entry, the global weight/data quantization blocks, the
// global prune_config), the estimate for exactly the layers it governs, e.g.
// `≈ SQNR 38.1 dB · rel.err 1.4 % · 52 layers`. Pure: estimates come from a
// cache keyed by engine::estimate_cache_key (tensor + effective config); the
// server fills the cache in the background (layers_to_estimate) and calls
// estimate_hints again, so an edit recomputes only layers whose key changed.
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/amct/config.h"
#include "core/amct/resolver.h"
#include "core/engine/estimate.h"
#include "core/engine/weights_model.h"
#include "core/syntax/diagnostic.h"

namespace amct::ide {

using EstimateCache = std::unordered_map<std::string, std::shared_ptr<const engine::LayerEstimate>>;
// One scan per weight tensor, by engine::tensor_cache_key, for the life of the
// loaded model: a layer estimated again under another config (INT8 -> INT4,
// a clip change...) reads its weight once instead of scanning it first.
using TensorScanCache = std::unordered_map<std::string, std::shared_ptr<const engine::TensorScan>>;

struct EstimateHint {
  ByteRange range;          // the governing block's field name (an override entry's for its inner blocks)
  std::string label;        // "≈ SQNR 38.1 dB · rel.err 1.4 % · 52 layers"
  size_t layers = 0;        // layers the block governs
  size_t estimated = 0;     // of which the cache has figures
  bool complete() const { return estimated == layers; }
};

struct EstimateHintOptions {
  ResolveOptions resolve;
};

// One model layer whose estimate is missing from the cache.
struct PendingEstimate {
  size_t layer_index = 0;  // into WeightsModel::layers
  LayerResolution resolution;
  std::string key;
  std::string tensor_key;                                // engine::tensor_cache_key
  std::shared_ptr<const engine::TensorScan> known_scan;  // from the scan cache, if it has the tensor
};

// Every layer that is quantized or pruned under `config` and not in `cache`,
// with its weight's scan when `scans` has it.
std::vector<PendingEstimate> layers_to_estimate(const AmctConfig& config, const engine::WeightsModel& model,
                                                const EstimateCache& cache, const EstimateHintOptions& options,
                                                const TensorScanCache* scans = nullptr);

// Estimates a pending layer (its known scan passed on) with `threads` threads.
engine::LayerEstimate estimate_pending(const engine::WeightsModel& model, const PendingEstimate& pending,
                                       unsigned threads);

// Keeps the scan `estimate` returned for its tensor, unless one is kept already.
void keep_scan(TensorScanCache& scans, const PendingEstimate& pending, const engine::LayerEstimate& estimate);

// Hints in source order; a block whose layers are not all estimated yet gets
// a "≈ estimating… 3/52 layers" label.
std::vector<EstimateHint> estimate_hints(const AmctConfig& config, const engine::WeightsModel& model,
                                         const EstimateCache& cache, const EstimateHintOptions& options);

// The label for a set of estimates (the figures of summarize_estimates).
std::string estimate_label(const std::vector<engine::LayerEstimate>& estimates);

}  // namespace amct::ide
