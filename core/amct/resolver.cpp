#include "core/amct/resolver.h"

namespace amct {
namespace {

// The last entry for a key: AMCT rejects repeated keys (duplicate-override),
// so which one is shown matters only for a broken config; a note says so.
const OverrideEntry* find_override(const std::vector<OverrideEntry>& entries,
                                   const std::string& key, int* count) {
  const OverrideEntry* found = nullptr;
  *count = 0;
  for (const OverrideEntry& entry : entries) {
    if (entry.key && entry.key->value == key) {
      found = &entry;
      ++*count;
    }
  }
  return found;
}

SourceBlock block_of(const OverrideEntry* entry) {
  if (!entry) return SourceBlock::Global;
  return entry->kind == OverrideKind::ByName ? SourceBlock::OverrideLayerConfigs
                                             : SourceBlock::OverrideLayerTypes;
}

ResolvedDataQuant resolve_data(const DataQuantBlock* block, SourceBlock block_kind) {
  ResolvedDataQuant data;  // defaults: ULQ INT8, no clip, no fixed_min
  if (!block) return data;
  data.source = {block_kind, block->field_range};
  if (block->dst_type) data.dst_type = block->dst_type->value;
  if (block->clip) {
    if (block->clip->clip_max) data.clip_max = block->clip->clip_max->value;
    if (block->clip->clip_min) data.clip_min = block->clip->clip_min->value;
  }
  if (block->fixed_min) data.fixed_min = block->fixed_min->value;
  return data;
}

ResolvedWeightQuant resolve_weight(const WeightQuantBlock* block, SourceBlock block_kind,
                                   const LayerTypeInfo* type_info) {
  ResolvedWeightQuant weight;  // defaults: ARQ INT8
  if (block) {
    weight.source = {block_kind, block->field_range};
    if (block->algorithm != WeightAlgorithm::None) weight.algorithm = block->algorithm;
    if (block->dst_type) weight.dst_type = block->dst_type->value;
    if (block->channel_wise) weight.channel_wise = block->channel_wise->value;
  }
  if (!weight.channel_wise && type_info) {
    weight.channel_wise = type_info->channel_wise_default();
    weight.channel_wise_is_default = true;
  }
  return weight;
}

Feature feature_of(PruneAlgorithm algorithm) {
  return algorithm == PruneAlgorithm::L1SelectivePrune ? Feature::SelectivePruning
                                                       : Feature::FilterPruning;
}

class LayerResolver {
 public:
  LayerResolver(const AmctConfig& config, const LayerQuery& layer, const ResolveOptions& options)
      : config_(config), layer_(layer), options_(options) {
    if (layer.type) type_info_ = options.layer_types->find(*layer.type);
    int count = 0;
    name_entry_ = find_override(config.name_overrides, layer.name, &count);
    if (count > 1) {
      result_.notes.push_back("layer '" + layer.name + "' has " + std::to_string(count) +
                              " override_layer_configs entries: AMCT rejects the config "
                              "(duplicate-override); the last entry is shown.");
    }
    if (layer.type) {
      type_entry_ = find_override(config.type_overrides, *layer.type, &count);
      if (count > 1) {
        result_.notes.push_back("type '" + *layer.type + "' has " + std::to_string(count) +
                                " override_layer_types entries: AMCT rejects the config "
                                "(duplicate-override); the last entry is shown.");
      }
    }
    for (const SkipEntry& skip : config.skips) {
      const bool matches = skip_list_by_type(skip.list) ? (layer.type && skip.value == *layer.type)
                                                        : skip.value == layer.name;
      if (matches) result_.skipped_by.push_back({skip.list, skip.value, skip.range, {}});
    }
  }

  LayerResolution run() {
    result_.layer = layer_.name;
    result_.type = layer_.type;
    resolve_quant();
    resolve_prune();
    return std::move(result_);
  }

 private:
  bool type_supports(Feature feature) const {
    return !layer_.type || (type_info_ && type_info_->supports(feature));
  }

  void mark_skips(ResolvedFeature feature, bool (*affects)(SkipList)) {
    for (SkipMatch& match : result_.skipped_by) {
      if (affects(match.list)) match.disables.push_back(feature);
    }
  }

  bool skipped_for(bool (*affects)(SkipList)) const {
    for (const SkipMatch& match : result_.skipped_by) {
      if (affects(match.list)) return true;
    }
    return false;
  }

  void resolve_quant() {
    ResolvedQuant& quant = result_.quant;
    if (options_.api != AmctApi::Quant && !config_.has_quant_content()) {
      result_.notes.push_back(
          "the config has no quantization settings, so AMCT does not quantize any layer.");
      return;
    }
    if (!type_supports(Feature::Quantization)) {
      result_.notes.push_back("AMCT does not quantize layers of type '" + *layer_.type +
                              "' (quantization-aware training supports " +
                              join_names(options_.layer_types->types_for(Feature::Quantization)) +
                              ").");
      return;
    }
    // One source only: the name override entry, else the type override
    // entry, else the global blocks. An override wins over a skip entry.
    const OverrideEntry* entry = name_entry_ ? name_entry_ : type_entry_;
    if (!entry && skipped_for(skip_list_affects_quant)) {
      mark_skips(ResolvedFeature::Quantization, skip_list_affects_quant);
      result_.notes.push_back("not quantized: a skip list names this layer.");
      return;
    }
    if (entry && skipped_for(skip_list_affects_quant)) {
      result_.notes.push_back(std::string("quantized although a skip list names it: an ") +
                              source_block_name(block_of(entry)) +
                              " entry wins over skip lists for quantization.");
    }
    const SourceBlock kind = block_of(entry);
    const DataQuantBlock* data = entry ? (entry->data ? &*entry->data : nullptr)
                                       : (config_.data ? &*config_.data : nullptr);
    const WeightQuantBlock* weight = entry ? (entry->weight ? &*entry->weight : nullptr)
                                           : (config_.weight ? &*config_.weight : nullptr);
    quant.enabled = true;
    quant.data = resolve_data(data, kind);
    quant.weight = resolve_weight(weight, kind, type_info_);
    if (entry && (!data || !weight) && (config_.data || config_.weight)) {
      result_.notes.push_back(std::string("the ") + source_block_name(kind) +
                              " entry has no " +
                              (!data && !weight ? "quantization blocks"
                               : !data          ? "retrain_data_quant_config"
                                                : "retrain_weight_quant_config") +
                              ": AMCT uses the defaults for what it lacks, not the global "
                              "blocks.");
    }
    if (quant.weight->dst_type == DataType::Int4) {
      result_.notes.push_back("INT4 weights: AMCT silently quantizes a grouped convolution or a "
                              "layer with an odd number of input channels to INT8 instead.");
    }
    if (type_info_ && !type_info_->channel_wise_allowed && quant.weight->channel_wise == true) {
      result_.notes.push_back("channel_wise: true on a " + type_info_->type +
                              " layer: AMCT raises \"layer can not be channelwised\".");
    }
  }

  void resolve_prune() {
    ResolvedPrune& prune = result_.prune;
    if (!config_.has_prune_content()) return;
    if (options_.api == AmctApi::Quant) {
      result_.notes.push_back(
          "API mode quant: create_quant_retrain_config does not prune (and rejects prune_config).");
      return;
    }
    // A skip entry wins over an override for pruning.
    if (skipped_for(skip_list_affects_prune)) {
      mark_skips(ResolvedFeature::Pruning, skip_list_affects_prune);
      result_.notes.push_back("not pruned: a skip list names this layer (skip entries win over "
                              "overrides for pruning).");
      return;
    }
    // The first non-empty prune_config: name override, type override, global.
    const PruneBlock* block = nullptr;
    SourceBlock kind = SourceBlock::Global;
    if (name_entry_ && name_entry_->has_pruner()) {
      block = &*name_entry_->prune;
      kind = SourceBlock::OverrideLayerConfigs;
    } else if (type_entry_ && type_entry_->has_pruner()) {
      block = &*type_entry_->prune;
      kind = SourceBlock::OverrideLayerTypes;
    } else if (config_.prune && !config_.prune->empty()) {
      block = &*config_.prune;
    }
    if (!block) return;
    if (block->algorithm == PruneAlgorithm::None) {
      result_.notes.push_back(std::string("the ") + source_block_name(kind) + " prune_config's " +
                              pruner_name(block->pruner) +
                              " has no algorithm: AMCT stops (missing-prune-algorithm).");
      return;
    }
    const Feature feature = feature_of(block->algorithm);
    if (!type_supports(feature)) {
      result_.notes.push_back(std::string("not pruned: ") + prune_algorithm_name(block->algorithm) +
                              " applies only to " +
                              join_names(options_.layer_types->types_for(feature)) + ".");
      return;
    }
    prune.enabled = true;
    prune.algorithm = block->algorithm;
    prune.source = SettingSource{kind, block->field_range};
    if (block->algorithm == PruneAlgorithm::BalancedL2NormFilterPrune) {
      if (block->prune_ratio) prune.prune_ratio = block->prune_ratio->value;
      prune.ascend_optimized = block->ascend_optimized ? block->ascend_optimized->value : true;
    } else {
      prune.n_out_of_m_type = block->n_out_of_m_type ? block->n_out_of_m_type->value : "M4N2";
      prune.update_freq = block->update_freq ? block->update_freq->value : 0;
    }
    if (!layer_.type) {
      result_.notes.push_back(std::string("no layer type given: assuming the layer is one ") +
                              prune_algorithm_name(block->algorithm) + " can prune (" +
                              join_names(options_.layer_types->types_for(feature)) + ").");
    }
  }

  const AmctConfig& config_;
  const LayerQuery& layer_;
  const ResolveOptions& options_;
  const LayerTypeInfo* type_info_ = nullptr;
  const OverrideEntry* name_entry_ = nullptr;
  const OverrideEntry* type_entry_ = nullptr;
  LayerResolution result_;
};

}  // namespace

const char* source_block_name(SourceBlock block) {
  switch (block) {
    case SourceBlock::OverrideLayerConfigs: return "override_layer_configs";
    case SourceBlock::OverrideLayerTypes: return "override_layer_types";
    case SourceBlock::Global: return "global";
    case SourceBlock::Default: return "default";
  }
  return "";
}

LayerResolution resolve_layer(const AmctConfig& config, const LayerQuery& layer,
                              const ResolveOptions& options) {
  return LayerResolver(config, layer, options).run();
}

}  // namespace amct
