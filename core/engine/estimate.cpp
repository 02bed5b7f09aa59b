#include "core/engine/estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

namespace amct::engine {
namespace {

constexpr uint64_t kBigLayer = uint64_t{1} << 20;  // elements: the least a tensor split over the threads has

uint64_t input_channels(const ModelLayer& layer) {
  const auto& s = layer.weight.shape;
  if (s.size() < 2) return 1;
  return static_cast<uint64_t>(layer.output_axis_is_1 ? s[0] : s[1]);
}

void add_activation_figures(LayerEstimate& estimate, const ResolvedDataQuant& data,
                            const std::optional<std::string>& activations_dir) {
  estimate.activation_bits = data_type_bits(data.dst_type);
  const bool fixed_min = data.fixed_min.value_or(false);
  if (data.clip_max && data.clip_min) {
    estimate.activation_static =
        ulq_activation_static(*data.clip_min, *data.clip_max, estimate.activation_bits, fixed_min);
  }
  if (!activations_dir) return;
  const std::string path = (std::filesystem::path(*activations_dir) / (estimate.name + ".npy")).string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  const NpyResult sample = read_npy(path);
  if (!sample.array) {
    estimate.notes.push_back("activation sample: " + sample.error);
    return;
  }
  const TensorView& x = sample.array->view;
  double lo = 0, hi = 0;
  if (estimate.activation_static) {
    lo = estimate.activation_static->clip_min;
    hi = estimate.activation_static->clip_max;
  } else {
    // No clip in the config: AMCT initialises it with IFMR; the sample's range
    // is the closest static stand-in.
    lo = INFINITY;
    hi = -INFINITY;
    for (uint64_t i = 0; i < x.elements; ++i) {
      const double v = element_at(x, i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (fixed_min) lo = 0;
    estimate.notes.push_back("activation clip range taken from the sample's min/max (AMCT uses IFMR)");
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    estimate.notes.push_back("activation sample has no finite values");
    return;
  }
  estimate.activation_measured =
      activation_quant_error(x, asymmetric_quant(lo, hi, estimate.activation_bits), estimate.activation_bits);
  if (sample.array->file && sample.array->file->changed_while_mapped()) {
    estimate.activation_measured.reset();
    estimate.notes.push_back("activation sample: the file changed while it was read");
  }
}

}  // namespace

LayerEstimate estimate_layer(const ModelLayer& layer, const LayerResolution& resolution, unsigned threads,
                             const std::optional<std::string>& activations_dir, const TensorView* next_weight,
                             const TensorScan* known_scan) {
  LayerEstimate estimate;
  estimate.name = layer.name;
  estimate.type = layer.type;
  estimate.type_inferred = layer.type_inferred;
  estimate.shape = layer.weight.shape;
  estimate.groups = layer.groups;
  estimate.parameters = layer.weight.elements;
  estimate.resolution = resolution;

  CompressSpec spec;
  spec.threads = std::max(1u, threads);
  spec.output_axis_is_1 = layer.output_axis_is_1;
  if (next_weight) {
    spec.next_tensor = next_weight->data;
    spec.next_tensor_bytes = next_weight->byte_size();
  }
  spec.known_scan = known_scan;
  if (resolution.quant.enabled && resolution.quant.weight) {
    const ResolvedWeightQuant& weight = *resolution.quant.weight;
    QuantSpec quant;
    quant.bits = data_type_bits(weight.dst_type);
    quant.channel_wise = weight.channel_wise.value_or(layer.type != "Linear");
    if (weight.dst_type == DataType::Int16) {
      quant.bits = 8;
      estimate.notes.push_back("INT16 is not supported by AMCT yet; estimated as INT8");
    }
    if (quant.bits == 4 && (layer.groups > 1 || input_channels(layer) % 2 == 1)) {
      quant.bits = 8;
      estimate.notes.push_back(layer.groups > 1
                                   ? "INT4 on a grouped conv: AMCT silently uses INT8"
                                   : "INT4 with an odd number of input channels: AMCT silently uses INT8");
    }
    if (layer.type == "Linear" && quant.channel_wise) {
      estimate.notes.push_back("AMCT rejects channel_wise: true on Linear; estimated as configured");
    }
    estimate.weight_quant = quant;
    estimate.weight_algorithm = weight_algorithm_name(weight.algorithm);
    spec.quant = quant;
  }
  if (resolution.quant.enabled && resolution.quant.data) {
    add_activation_figures(estimate, *resolution.quant.data, activations_dir);
  }
  if (resolution.prune.enabled) {
    const ResolvedPrune& prune = resolution.prune;
    PruneSpec p;
    if (prune.algorithm == PruneAlgorithm::BalancedL2NormFilterPrune) {
      if (!prune.prune_ratio) {
        estimate.notes.push_back("filter pruning without prune_ratio: not estimated");
      } else if (layer.groups > 1) {
        estimate.notes.push_back("AMCT's channel pruning skips grouped/depthwise convolutions");
      } else {
        p = {PruneKind::Filter, *prune.prune_ratio, prune.ascend_optimized.value_or(true)};
      }
    } else if (prune.algorithm == PruneAlgorithm::L1SelectivePrune) {
      p.kind = PruneKind::Selective4of2;
    }
    if (p.kind != PruneKind::None) {
      estimate.prune = p;
      estimate.prune_algorithm = prune_algorithm_name(prune.algorithm);
      spec.prune = p;
    }
  }
  if (!spec.quant && spec.prune.kind == PruneKind::None) return estimate;

  // Per-tensor ARQ fetches far ahead of what it reads (the next chunk, or
  // the next tensor), and the CPU drops fetches to pages not mapped yet:
  // from a fresh mapping it ran at a quarter (ResNet-50) to half (Llama
  // layer) of its speed. The other paths fetch within the pages their reads
  // have just faulted in; mapping in ahead cost them ~1.4 ms on ResNet-50 on
  // a Zen 1 VM (session 9), but where a page fault is dear (a Zen 5 VM whose
  // faults exit to the hypervisor, session 11) it made `--estimate` of the
  // 810 MB Llama layer per channel 10 % faster and ResNet-50 no slower.
  map_in_for_reading(layer.weight.data, layer.weight.byte_size(), spec.threads);
  if (next_weight && spec.quant && !spec.quant->channel_wise) {
    map_in_for_reading(next_weight->data, next_weight->byte_size());
  }
  CompressResult result = compress_weight(layer.weight, spec);
  estimate.error = result.error;
  estimate.prune_figures = result.prune;
  estimate.problem = result.problem;
  estimate.reread_elements = result.reread_elements;
  estimate.requantized_elements = result.requantized_elements;
  estimate.used_known_scan = result.used_known_scan;
  if (result.scan) estimate.scan = std::make_shared<const TensorScan>(std::move(*result.scan));
  if (mapping_changed_at(layer.weight.data)) {  // truncated in place under us: the figures read zeros
    estimate.error.reset();
    estimate.prune_figures.reset();
    estimate.problem = kFileChangedWhileRead;
    estimate.weights_changed = true;
    estimate.scan.reset();
    return estimate;
  }
  if (result.prune) {
    if (spec.prune.kind == PruneKind::Filter) {
      const uint64_t per_channel = result.prune->total ? layer.weight.elements / result.prune->total : 0;
      estimate.parameters_pruned = (result.prune->total - result.prune->kept) * per_channel;
    } else {
      estimate.parameters_pruned = result.prune->total - result.prune->kept;
    }
    if (result.prune->skipped) estimate.notes.push_back("4:2 pruning leaves layers with <= 2 input channels untouched");
  }
  return estimate;
}

std::string tensor_cache_key(const ModelLayer& layer) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%p:%llu:%d|", static_cast<const void*>(layer.weight.data),
                static_cast<unsigned long long>(layer.weight.elements), static_cast<int>(layer.weight.dtype));
  return layer.name + "|" + layer.type + "|" + buffer;
}

std::string estimate_cache_key(const ModelLayer& layer, const LayerResolution& resolution) {
  char buffer[96];
  std::string key = tensor_cache_key(layer);
  const ResolvedQuant& q = resolution.quant;
  if (q.enabled && q.weight) {
    key += "w:" + std::to_string(static_cast<int>(q.weight->algorithm)) + "," +
           std::to_string(static_cast<int>(q.weight->dst_type)) + "," +
           (q.weight->channel_wise ? (*q.weight->channel_wise ? "1" : "0") : "-") + "|";
  }
  if (q.enabled && q.data) {
    std::snprintf(buffer, sizeof buffer, "d:%d,%.9g,%.9g,%d|", static_cast<int>(q.data->dst_type),
                  q.data->clip_min.value_or(NAN), q.data->clip_max.value_or(NAN),
                  q.data->fixed_min.value_or(false) ? 1 : 0);
    key += buffer;
  }
  const ResolvedPrune& p = resolution.prune;
  if (p.enabled) {
    std::snprintf(buffer, sizeof buffer, "p:%d,%.9g,%d|", static_cast<int>(p.algorithm), p.prune_ratio.value_or(NAN),
                  p.ascend_optimized.value_or(true) ? 1 : 0);
    key += buffer;
  }
  return key;
}

EstimateSummary summarize_estimates(const std::vector<LayerEstimate>& layers) {
  EstimateSummary summary;
  summary.layers = layers.size();
  double sqnr_sum = 0, err = 0, ref = 0;
  size_t sqnr_count = 0;
  std::vector<const LayerEstimate*> ranked;
  for (const LayerEstimate& layer : layers) {
    summary.parameters += layer.parameters;
    summary.parameters_pruned += layer.parameters_pruned;
    if (layer.weight_quant) ++summary.quantized_layers;
    if (layer.prune) ++summary.pruned_layers;
    if (!layer.weight_quant && !layer.prune) ++summary.untouched_layers;
    if (!layer.error) continue;
    err += layer.error->sumsq_err;
    ref += layer.error->sumsq_ref;
    ranked.push_back(&layer);
    if (layer.weight_quant && std::isfinite(layer.error->sqnr_db())) {
      sqnr_sum += layer.error->sqnr_db();
      ++sqnr_count;
    }
  }
  if (sqnr_count) summary.mean_sqnr_db = sqnr_sum / static_cast<double>(sqnr_count);
  summary.overall_rel_l2 = ref > 0 ? std::sqrt(err / ref) : 0.0;
  std::stable_sort(ranked.begin(), ranked.end(), [](const LayerEstimate* a, const LayerEstimate* b) {
    return a->error->rel_l2() > b->error->rel_l2();
  });
  for (size_t i = 0; i < ranked.size() && i < 5; ++i) summary.worst_layers.push_back(ranked[i]->name);
  return summary;
}

ModelEstimate estimate_model(const AmctConfig& config, const WeightsModel& model, const EstimateOptions& options) {
  ModelEstimate out;
  const size_t n = model.layers.size();
  out.layers.resize(n);
  const unsigned threads =
      options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  const uint64_t total = model.parameter_count();
  uint64_t done = 0;
  std::mutex progress_mutex;
  auto finished = [&](const ModelLayer& layer) {
    if (!options.progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex);
    done += layer.weight.elements;
    options.progress(done, total);
  };
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };
  auto run = [&](size_t i, unsigned inner_threads, const TensorView* next_weight) {
    const ModelLayer& layer = model.layers[i];
    const LayerResolution resolution = resolve_layer(config, {layer.name, layer.type}, options.resolve);
    out.layers[i] = estimate_layer(layer, resolution, inner_threads, options.activations_dir, next_weight);
    finished(layer);
  };
  // Tensors holding a large share of the model one at a time, split over
  // every thread; the others one per thread, largest first (so that the
  // threads finish together), with no barrier or thread start per tensor.
  const uint64_t split_above = std::max<uint64_t>(kBigLayer, total / (uint64_t{4} * threads));
  std::vector<size_t> small;
  for (size_t i = 0; i < n; ++i) {
    if (model.layers[i].weight.elements >= split_above && threads > 1) {
      if (cancelled()) break;
      run(i, threads, nullptr);
    } else {
      small.push_back(i);
    }
  }
  std::stable_sort(small.begin(), small.end(), [&](size_t a, size_t b) {
    return model.layers[a].weight.elements > model.layers[b].weight.elements;
  });
  // Each worker claims its next layer before running the current one, so
  // that the kernels can fetch it meanwhile.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k = next++; k < small.size() && !cancelled();) {
      const size_t following = next++;
      run(small[k], 1, following < small.size() ? &model.layers[small[following]].weight : nullptr);
      k = following;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < small.size(); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  out.cancelled = cancelled();
  for (const ModelLayer& layer : model.layers) {
    if (mapping_changed_at(layer.weight.data)) {
      out.error = kFileChangedWhileRead;
      break;
    }
  }
  out.summary = summarize_estimates(out.layers);
  return out;
}

}  // namespace amct::engine
