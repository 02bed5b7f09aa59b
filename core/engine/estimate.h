#pragma once
// Per-layer error estimates of an AMCT config on a model's weights: each layer
// gets its effective config from the resolver (core/amct/resolver.h, skips
// honoured), then the reference algorithms (compress.h) run on its weight.
// This is the entry point for the CLI (--estimate) and the language server.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/amct/resolver.h"
#include "core/engine/compress.h"
#include "core/engine/weights_model.h"

namespace amct::engine {

struct LayerEstimate {
  std::string name;
  std::string type;
  bool type_inferred = false;
  std::vector<int64_t> shape;
  int64_t groups = 1;
  uint64_t parameters = 0;
  LayerResolution resolution;

  // What ran (unset: that feature is off for the layer).
  std::optional<QuantSpec> weight_quant;  // bits after AMCT's INT4 -> INT8 downgrade
  std::string weight_algorithm;           // "arq_retrain" | "ulq_retrain"
  std::optional<PruneSpec> prune;
  std::string prune_algorithm;            // "balanced_l2_norm_filter_prune" | "l1_selective_prune"

  // The compressed weight (pruned, then quantized) against the original.
  std::optional<ErrorSums> error;
  std::optional<PruneFigures> prune_figures;
  uint64_t parameters_pruned = 0;

  // Activations: the static figure from the clip range and, with a sample,
  // the measured error.
  int activation_bits = 8;
  std::optional<ActivationStaticFigure> activation_static;
  std::optional<ErrorSums> activation_measured;

  std::vector<std::string> notes;  // downgrades, skipped features, ...
  std::string problem;             // no figures: why (NaN weights, ...)
  // Per-tensor ARQ's second read / second quantization (speed figures, see CompressResult).
  uint64_t reread_elements = 0;
  uint64_t requantized_elements = 0;
  bool weights_changed = false;  // the mapped file shrank while read: no figures (problem says so)
  // Per-tensor ARQ of an unpruned tensor: the weight's scan (it depends on
  // the weights only), for the caller to pass back as `known_scan` when it
  // estimates the same tensor under another config. Unset when the known scan
  // was used (the caller has it) or the path does not scan.
  std::shared_ptr<const TensorScan> scan;
  bool used_known_scan = false;  // `known_scan` matched: the tensor was read once
};

struct EstimateSummary {
  size_t layers = 0;
  size_t quantized_layers = 0;
  size_t pruned_layers = 0;
  size_t untouched_layers = 0;  // neither quantized nor pruned
  uint64_t parameters = 0;
  uint64_t parameters_pruned = 0;
  std::optional<double> mean_sqnr_db;  // over quantized layers with finite SQNR; none without
  double overall_rel_l2 = 0;  // ||W - Ŵ|| / ||W|| over every compressed layer
  std::vector<std::string> worst_layers;  // highest rel. L2 error first, at most 5
};

struct ModelEstimate {
  std::vector<LayerEstimate> layers;  // model order
  EstimateSummary summary;
  bool cancelled = false;
  // Set when the weights file was truncated in place while it was read
  // (kFileChangedWhileRead): the figures are not the file's.
  std::string error;
};

struct EstimateOptions {
  ResolveOptions resolve;
  unsigned threads = 0;  // 0: all cores
  // A directory with `<layer name>.npy` activation samples (optional).
  std::optional<std::string> activations_dir;
  // Called from worker threads (serialised) with parameters done / total.
  std::function<void(uint64_t done, uint64_t total)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

// One layer with its resolution (the LSP caches these by weight and config).
// `next_weight`: the weight the caller estimates next on this thread, if
// known (fetched into cache while the kernels are compute-bound; a hint).
// `known_scan`: an earlier LayerEstimate::scan of this same tensor (see
// tensor_cache_key); ignored when it does not match or the path does not scan.
LayerEstimate estimate_layer(const ModelLayer& layer, const LayerResolution& resolution,
                             unsigned threads, const std::optional<std::string>& activations_dir = {},
                             const TensorView* next_weight = nullptr, const TensorScan* known_scan = nullptr);

// A key of the weight tensor alone (name, type, address, size, dtype): the
// prefix of estimate_cache_key. Scans are kept by it, for the life of the
// loaded model (addresses are reused by a new mapping).
std::string tensor_cache_key(const ModelLayer& layer);

// A key of everything estimate_layer's result depends on (the weight's
// identity and the effective settings, not where they came from): the LSP
// caches estimates by it, so an edit recomputes only layers whose key changed.
std::string estimate_cache_key(const ModelLayer& layer, const LayerResolution& resolution);

ModelEstimate estimate_model(const AmctConfig& config, const WeightsModel& model,
                             const EstimateOptions& options = {});

EstimateSummary summarize_estimates(const std::vector<LayerEstimate>& layers);

}  // namespace amct::engine
