#include "core/ide/estimate_hints.h"

#include <cstdio>
#include <map>

namespace amct::ide {
namespace {

// A block inside an override entry is shown on the entry's first line, next
// to its precedence lens: the entry is what the user reads as "the block".
ByteRange governing_range(const AmctConfig& config, ByteRange block) {
  for (const auto* entries : {&config.name_overrides, &config.type_overrides})
    for (const OverrideEntry& entry : *entries)
      if (entry.block_range.start <= block.start && block.end <= entry.block_range.end) return entry.field_range;
  return block;
}

struct LayerPlan {
  size_t layer_index = 0;
  LayerResolution resolution;
  std::vector<ByteRange> governed_by;  // distinct
};

std::vector<LayerPlan> plan(const AmctConfig& config, const engine::WeightsModel& model,
                            const EstimateHintOptions& options) {
  std::vector<LayerPlan> plans;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const engine::ModelLayer& layer = model.layers[i];
    LayerPlan plan;
    plan.layer_index = i;
    plan.resolution = resolve_layer(config, {layer.name, layer.type}, options.resolve);
    const ResolvedQuant& quant = plan.resolution.quant;
    const ResolvedPrune& prune = plan.resolution.prune;
    if (!quant.enabled && !prune.enabled) continue;
    auto add = [&](const std::optional<ByteRange>& range) {
      if (!range) return;
      const ByteRange shown = governing_range(config, *range);
      for (const ByteRange& known : plan.governed_by)
        if (known.start == shown.start && known.end == shown.end) return;
      plan.governed_by.push_back(shown);
    };
    if (quant.enabled) {
      std::optional<ByteRange> range;
      if (quant.weight && quant.weight->source.range) range = quant.weight->source.range;
      else if (quant.data && quant.data->source.range) range = quant.data->source.range;
      add(range);
    }
    if (prune.enabled && prune.source) add(prune.source->range);
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, fraction < 0.001 && fraction > 0 ? "%.2f %%" : "%.1f %%", fraction * 100);
  return buffer;
}

std::string layer_count(size_t n) { return std::to_string(n) + (n == 1 ? " layer" : " layers"); }

}  // namespace

std::string estimate_label(const std::vector<engine::LayerEstimate>& estimates) {
  const engine::EstimateSummary summary = engine::summarize_estimates(estimates);
  std::string label = "≈ ";
  if (summary.mean_sqnr_db) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "SQNR %.1f dB · ", *summary.mean_sqnr_db);
    label += buffer;
  }
  label += "rel.err " + percent(summary.overall_rel_l2);
  if (summary.parameters_pruned > 0 && summary.parameters > 0)
    label += " · pruned " + percent(static_cast<double>(summary.parameters_pruned) / static_cast<double>(summary.parameters));
  label += " · " + layer_count(summary.layers);
  return label;
}

std::vector<PendingEstimate> layers_to_estimate(const AmctConfig& config, const engine::WeightsModel& model,
                                                const EstimateCache& cache, const EstimateHintOptions& options,
                                                const TensorScanCache* scans) {
  std::vector<PendingEstimate> pending;
  for (LayerPlan& plan : plan(config, model, options)) {
    const engine::ModelLayer& layer = model.layers[plan.layer_index];
    std::string key = engine::estimate_cache_key(layer, plan.resolution);
    if (cache.count(key)) continue;
    PendingEstimate p{plan.layer_index, std::move(plan.resolution), std::move(key), engine::tensor_cache_key(layer), {}};
    if (scans) {
      const auto found = scans->find(p.tensor_key);
      if (found != scans->end()) p.known_scan = found->second;
    }
    pending.push_back(std::move(p));
  }
  return pending;
}

engine::LayerEstimate estimate_pending(const engine::WeightsModel& model, const PendingEstimate& pending,
                                       unsigned threads) {
  return engine::estimate_layer(model.layers[pending.layer_index], pending.resolution, threads, {}, nullptr,
                                pending.known_scan.get());
}

void keep_scan(TensorScanCache& scans, const PendingEstimate& pending, const engine::LayerEstimate& estimate) {
  if (estimate.scan) scans.try_emplace(pending.tensor_key, estimate.scan);
}

std::vector<EstimateHint> estimate_hints(const AmctConfig& config, const engine::WeightsModel& model,
                                         const EstimateCache& cache, const EstimateHintOptions& options) {
  struct Group {
    ByteRange range;
    size_t layers = 0;
    std::vector<engine::LayerEstimate> estimates;
  };
  std::map<std::pair<uint32_t, uint32_t>, Group> groups;  // source order
  for (const LayerPlan& plan : plan(config, model, options)) {
    const auto found = cache.find(engine::estimate_cache_key(model.layers[plan.layer_index], plan.resolution));
    for (const ByteRange& range : plan.governed_by) {
      Group& group = groups[{range.start, range.end}];
      group.range = range;
      ++group.layers;
      if (found != cache.end() && found->second) group.estimates.push_back(*found->second);
    }
  }
  std::vector<EstimateHint> hints;
  for (auto& [start, group] : groups) {
    EstimateHint hint;
    hint.range = group.range;
    hint.layers = group.layers;
    hint.estimated = group.estimates.size();
    hint.label = hint.complete() ? estimate_label(group.estimates)
                                 : "≈ estimating… " + std::to_string(hint.estimated) + "/" + layer_count(hint.layers);
    hints.push_back(std::move(hint));
  }
  return hints;
}

}  // namespace amct::ide
