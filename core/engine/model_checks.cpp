#include "core/engine/model_checks.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/text_util.h"

namespace amct::engine {
namespace {

// The closest model layer name, if close enough to be a typo.
std::string did_you_mean(const std::string& name, const std::vector<ModelLayerInfo>& layers) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const ModelLayerInfo& layer : layers) {
    const size_t d = edit_distance_ignoring_case(name, layer.name);
    if (d < best_distance) {
      best_distance = d;
      best = layer.name;
    }
  }
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  return best_distance <= limit ? best : "";
}

const WeightQuantBlock* weight_block(const AmctConfig& config, const ResolvedWeightQuant& weight,
                                     const ModelLayerInfo& layer) {
  auto find = [](const std::vector<OverrideEntry>& entries, const std::string& key) -> const WeightQuantBlock* {
    const WeightQuantBlock* found = nullptr;
    for (const OverrideEntry& entry : entries) {
      if (entry.key && entry.key->value == key && entry.weight) found = &*entry.weight;
    }
    return found;
  };
  switch (weight.source.block) {
    case SourceBlock::OverrideLayerConfigs: return find(config.name_overrides, layer.name);
    case SourceBlock::OverrideLayerTypes: return find(config.type_overrides, layer.type);
    case SourceBlock::Global: return config.weight ? &*config.weight : nullptr;
    case SourceBlock::Default: return nullptr;
  }
  return nullptr;
}

std::string list_names(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < 5; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > 5) text += ", ... (" + std::to_string(names.size()) + " layers)";
  return text;
}

}  // namespace

std::vector<Diagnostic> check_config_against_model(const AmctConfig& config,
                                                   const std::vector<ModelLayerInfo>& layers,
                                                   const ModelCheckOptions& options) {
  std::vector<Diagnostic> out;
  if (layers.empty()) return out;
  std::set<std::string> names, types;
  for (const ModelLayerInfo& layer : layers) {
    names.insert(layer.name);
    types.insert(layer.type);
  }

  auto unknown_name = [&](const std::string& name, ByteRange range, const std::string& where) {
    if (names.count(name)) return;
    std::string message = "the model has no layer '" + name + "' (" + where + ")";
    if (const std::string suggestion = did_you_mean(name, layers); !suggestion.empty()) {
      message += "; did you mean '" + suggestion + "'?";
    }
    out.push_back({range, Severity::Warning, "model-unknown-layer", message, {}});
  };
  for (const OverrideEntry& entry : config.name_overrides) {
    if (entry.key) unknown_name(entry.key->value, entry.key->range, "override_layer_configs");
  }
  for (const SkipEntry& skip : config.skips) {
    if (!skip_list_by_type(skip.list)) unknown_name(skip.value, skip.range, skip_list_name(skip.list));
  }
  for (const OverrideEntry& entry : config.type_overrides) {
    if (entry.key && !types.count(entry.key->value)) {
      std::string present;
      for (const std::string& type : types) present += (present.empty() ? "" : ", ") + type;
      out.push_back({entry.key->range, Severity::Warning, "model-type-absent",
                     "the model has no " + entry.key->value + " layer; this override applies to nothing "
                     "(the model has " + present + ")",
                     {}});
    }
  }

  // Per-layer verdicts, grouped by the token they point at.
  std::map<std::pair<uint32_t, uint32_t>, std::vector<std::string>> channel_wise_linear, depthwise_prune;
  std::map<std::pair<uint32_t, uint32_t>, ByteRange> ranges;
  size_t compressed = 0;
  for (const ModelLayerInfo& layer : layers) {
    const LayerResolution r = resolve_layer(config, {layer.name, layer.type}, options.resolve);
    if (r.quant.enabled || r.prune.enabled) ++compressed;
    if (r.quant.enabled && r.quant.weight && layer.type == "Linear" && r.quant.weight->channel_wise == true &&
        !r.quant.weight->channel_wise_is_default) {
      if (const WeightQuantBlock* block = weight_block(config, *r.quant.weight, layer); block && block->channel_wise) {
        const ByteRange range = block->channel_wise->range;
        channel_wise_linear[{range.start, range.end}].push_back(layer.name);
        ranges[{range.start, range.end}] = range;
      }
    }
    if (r.prune.enabled && r.prune.algorithm == PruneAlgorithm::BalancedL2NormFilterPrune && layer.groups > 1 &&
        r.prune.source && r.prune.source->range) {
      const ByteRange range = *r.prune.source->range;
      depthwise_prune[{range.start, range.end}].push_back(layer.name);
      ranges[{range.start, range.end}] = range;
    }
  }
  for (const auto& [key, layer_names] : channel_wise_linear) {
    out.push_back({ranges[key], Severity::Error, "model-channel-wise-linear",
                   "channel_wise: true reaches Linear layers of the model (" + list_names(layer_names) +
                       "); AMCT rejects it (\"layer can not be channelwised\")",
                   {}});
  }
  for (const auto& [key, layer_names] : depthwise_prune) {
    out.push_back({ranges[key], Severity::Warning, "model-depthwise-filter-prune",
                   "filter pruning reaches grouped/depthwise convolutions (" + list_names(layer_names) +
                       "); AMCT's channel pruning skips them",
                   {}});
  }
  if (compressed == 0) {
    out.push_back({ByteRange{0, 0}, Severity::Warning, "model-no-layer-left",
                   "no layer left to compress: every one of the model's " + std::to_string(layers.size()) +
                       " layers is skipped or has nothing configured",
                   {}});
  }
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.range.start < b.range.start;
  });
  return out;
}

}  // namespace amct::engine
