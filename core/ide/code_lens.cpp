#include "core/ide/code_lens.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "core/amct/config.h"
#include "core/amct/resolver.h"

namespace amct::ide {

namespace {

// A name no layer has, so a type entry is resolved for "any layer of the type".
constexpr const char* kAnyLayerOfType = "\x01any layer of the type";

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

bool inside(ByteRange inner, ByteRange outer) { return outer.start <= inner.start && inner.end <= outer.end; }

struct Describer {
  const AmctConfig& config;
  ByteRange this_block;

  std::string source(const SettingSource& setting, bool global_exists) const {
    switch (setting.block) {
      case SourceBlock::OverrideLayerConfigs:
      case SourceBlock::OverrideLayerTypes:
        if (setting.range && inside(*setting.range, this_block)) return "this block";
        return setting.block == SourceBlock::OverrideLayerConfigs ? "name override" : "type override";
      case SourceBlock::Global: return "global";
      case SourceBlock::Default: return global_exists ? "default — not inherited from global" : "default";
    }
    return "";
  }

  std::string quant(const LayerResolution& resolution) const {
    if (!resolution.quant.enabled) {
      for (const SkipMatch& skip : resolution.skipped_by)
        for (ResolvedFeature feature : skip.disables)
          if (feature == ResolvedFeature::Quantization) return std::string("quant: skipped (") + skip_list_name(skip.list) + ")";
      return "quant: off";
    }
    std::string out;
    if (const auto& data = resolution.quant.data) {
      out = std::string("data: ULQ ") + data_type_name(data->dst_type);
      if (data->clip_max && data->clip_min) out += " clip [" + number(*data->clip_min) + ", " + number(*data->clip_max) + "]";
      if (data->fixed_min && *data->fixed_min) out += " fixed_min";
      out += " (" + source(data->source, config.data.has_value()) + ")";
    }
    if (const auto& weight = resolution.quant.weight) {
      out += std::string(" · weight: ") + (weight->algorithm == WeightAlgorithm::UlqRetrain ? "ULQ " : "ARQ ") +
             data_type_name(weight->dst_type);
      if (weight->channel_wise) out += *weight->channel_wise ? " per-channel" : " per-tensor";
      out += " (" + source(weight->source, config.weight.has_value()) + ")";
    }
    return out;
  }

  std::string prune(const LayerResolution& resolution) const {
    const ResolvedPrune& prune = resolution.prune;
    if (!prune.enabled) {
      for (const SkipMatch& skip : resolution.skipped_by)
        for (ResolvedFeature feature : skip.disables)
          if (feature == ResolvedFeature::Pruning) return std::string("prune: skipped (") + skip_list_name(skip.list) + ")";
      return config.has_prune_content() ? "prune: not applied" : "prune: off";
    }
    std::string out = "prune: ";
    const bool global_exists = config.prune && !config.prune->empty();
    const std::string from = prune.source ? source(*prune.source, global_exists) : "";
    if (prune.algorithm == PruneAlgorithm::BalancedL2NormFilterPrune) {
      out += "filter " + (prune.prune_ratio ? number(*prune.prune_ratio) : std::string("?"));
    } else {
      out += "4:2";
      if (prune.update_freq && *prune.update_freq) out += " every " + std::to_string(*prune.update_freq) + " batches";
    }
    return out + " (" + from + ")";
  }
};

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// "skip_layers: fc, conv1; quant_skip_types: LSTM" for the lists that affect a feature.
std::string skipped_summary(const AmctConfig& config, bool (*affects)(SkipList)) {
  std::map<SkipList, std::vector<std::string>> by_list;
  for (const SkipEntry& skip : config.skips)
    if (affects(skip.list)) by_list[skip.list].push_back(skip.value);
  std::vector<std::string> parts;
  for (const auto& [list, values] : by_list) {
    std::string joined;
    for (const auto& value : values) joined += (joined.empty() ? "" : ", ") + value;
    parts.push_back(std::string(skip_list_name(list)) + ": " + joined);
  }
  return join(parts, "; ");
}

// resolve_layer() scans every override and skip entry, and a lens per entry
// would make the whole request quadratic (10,000 overrides: seconds). The
// index gives each query a small config holding only what can match it: the
// global blocks, the last entry for its key and the skip entries naming it.
class ResolutionIndex {
 public:
  explicit ResolutionIndex(const AmctConfig& config) {
    base_.batch_num = config.batch_num;
    base_.fakequant_precision_mode = config.fakequant_precision_mode;
    base_.data = config.data;
    base_.weight = config.weight;
    base_.prune = config.prune;
    // Keyless entries match no query; they keep "is there quantization /
    // pruning content anywhere", which the resolver asks of the whole config.
    if (config.has_quant_content() && !base_.has_quant_content()) {
      OverrideEntry content;
      content.data.emplace();
      base_.name_overrides.push_back(std::move(content));
    }
    if (config.has_prune_content() && !base_.has_prune_content()) {
      OverrideEntry content;
      content.prune.emplace();
      content.prune->pruner = PrunerKind::FilterPruner;
      base_.name_overrides.push_back(std::move(content));
    }
    for (const OverrideEntry& entry : config.name_overrides)
      if (entry.key) last_by_name_[entry.key->value] = &entry;
    for (const OverrideEntry& entry : config.type_overrides)
      if (entry.key) last_by_type_[entry.key->value] = &entry;
    for (const SkipEntry& skip : config.skips)
      (skip_list_by_type(skip.list) ? skips_by_type_ : skips_by_name_)[skip.value].push_back(&skip);
    view_ = base_;
  }

  LayerResolution resolve(const LayerQuery& query, const ResolveOptions& options) {
    // One view, refilled per query: copying the global blocks 10,000 times costs more than resolving.
    AmctConfig& view = view_;
    view.name_overrides.resize(base_.name_overrides.size());
    view.type_overrides.clear();
    view.skips.clear();
    if (auto it = last_by_name_.find(query.name); it != last_by_name_.end()) view.name_overrides.push_back(*it->second);
    if (query.type) {
      if (auto it = last_by_type_.find(*query.type); it != last_by_type_.end())
        view.type_overrides.push_back(*it->second);
    }
    // The resolver lists matching skips in source order, across both kinds.
    std::vector<const SkipEntry*> skips;
    if (auto it = skips_by_name_.find(query.name); it != skips_by_name_.end()) skips = it->second;
    if (query.type) {
      if (auto it = skips_by_type_.find(*query.type); it != skips_by_type_.end())
        skips.insert(skips.end(), it->second.begin(), it->second.end());
    }
    std::stable_sort(skips.begin(), skips.end());  // pointers into one vector: source order
    for (const SkipEntry* skip : skips) view.skips.push_back(*skip);
    return resolve_layer(view, query, options);
  }

 private:
  AmctConfig base_;
  AmctConfig view_;
  std::unordered_map<std::string, const OverrideEntry*> last_by_name_;
  std::unordered_map<std::string, const OverrideEntry*> last_by_type_;
  std::unordered_map<std::string, std::vector<const SkipEntry*>> skips_by_name_;
  std::unordered_map<std::string, std::vector<const SkipEntry*>> skips_by_type_;
};

}  // namespace

std::vector<CodeLens> code_lenses(const model::BoundDocument& bound, const CodeLensOptions& options) {
  std::vector<CodeLens> lenses;
  if (!bound.root.descriptor || bound.root.descriptor->name() != "AMCTRetrainConfig") return lenses;
  const AmctConfig config = extract_config(bound.root);
  ResolveOptions resolve_options;
  resolve_options.api = options.api;
  ResolutionIndex index(config);

  size_t quant_shadowing_names = 0, quant_shadowing_types = 0, prune_shadowing = 0;
  auto describe_entry = [&](const OverrideEntry& entry) {
    if (!entry.key) return;
    LayerQuery query;
    if (entry.kind == OverrideKind::ByName) {
      query.name = entry.key->value;
    } else {
      query.name = kAnyLayerOfType;
      query.type = entry.key->value;
    }
    const LayerResolution resolution = index.resolve(query, resolve_options);
    const Describer describer{config, entry.block_range};
    const auto from_this = [&](const SettingSource& s) { return s.range && inside(*s.range, entry.block_range); };
    if (resolution.quant.enabled && resolution.quant.data && resolution.quant.data->source.block != SourceBlock::Global)
      ++(entry.kind == OverrideKind::ByName ? quant_shadowing_names : quant_shadowing_types);
    if (resolution.prune.enabled && resolution.prune.source && from_this(*resolution.prune.source)) ++prune_shadowing;
    lenses.push_back({entry.field_range, join({describer.quant(resolution), describer.prune(resolution)}, " · ")});
  };
  for (const OverrideEntry& entry : config.name_overrides) describe_entry(entry);
  for (const OverrideEntry& entry : config.type_overrides) describe_entry(entry);

  auto shadow_text = [](size_t names, size_t types) {
    std::vector<std::string> parts;
    if (names) parts.push_back(std::to_string(names) + " name override" + (names > 1 ? "s" : ""));
    if (types) parts.push_back(std::to_string(types) + " type override" + (types > 1 ? "s" : ""));
    return parts.empty() ? std::string("applies to every layer") : "shadowed by " + join(parts, " and ");
  };
  const std::string quant_skips = skipped_summary(config, skip_list_affects_quant);
  const std::string prune_skips = skipped_summary(config, skip_list_affects_prune);
  if (config.data)
    lenses.push_back({config.data->field_range, join({shadow_text(quant_shadowing_names, quant_shadowing_types),
                                                      quant_skips.empty() ? "" : "skips " + quant_skips},
                                                     " · ")});
  if (config.weight)
    lenses.push_back({config.weight->field_range, join({shadow_text(quant_shadowing_names, quant_shadowing_types),
                                                        quant_skips.empty() ? "" : "skips " + quant_skips},
                                                       " · ")});
  if (config.prune)
    lenses.push_back({config.prune->field_range,
                      join({prune_shadowing ? "shadowed by " + std::to_string(prune_shadowing) + " override" +
                                                  (prune_shadowing > 1 ? "s" : "")
                                            : std::string("applies to every prunable layer"),
                            prune_skips.empty() ? "" : "skips " + prune_skips},
                           " · ")});
  std::stable_sort(lenses.begin(), lenses.end(), [](const CodeLens& a, const CodeLens& b) { return a.range.start < b.range.start; });
  return lenses;
}

}  // namespace amct::ide
