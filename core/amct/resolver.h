#pragma once
// The effective configuration of one layer after AMCT's precedence rules
// (AMCT_FACTS.md "Precedence"), and where each setting came from.
//
// Quantization comes from ONE source: the layer's override_layer_configs entry
// (even one holding only a prune_config), else its override_layer_types entry,
// else the global blocks. Nothing is merged across sources; a block missing
// from the chosen entry gets AMCT's default (data: ULQ INT8, no clip, no
// fixed_min; weight: ARQ INT8, channel_wise default per layer type). An
// override beats a skip entry.
// Pruning: the name override's prune_config if non-empty, else the type
// override's, else the global one, only for layer types the algorithm can
// prune. A skip entry beats an override.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/amct/capabilities.h"
#include "core/amct/config.h"
#include "core/amct/rules.h"

namespace amct {

enum class SourceBlock { OverrideLayerConfigs, OverrideLayerTypes, Global, Default };
const char* source_block_name(SourceBlock block);  // "override_layer_configs", ..., "default"

struct SettingSource {
  SourceBlock block = SourceBlock::Default;
  std::optional<ByteRange> range;  // the block's field name; none for defaults
};

struct ResolvedDataQuant {
  std::string algorithm = "ulq_quantize";
  DataType dst_type = DataType::Int8;
  std::optional<double> clip_max;
  std::optional<double> clip_min;
  std::optional<bool> fixed_min;
  SettingSource source;
};

struct ResolvedWeightQuant {
  WeightAlgorithm algorithm = WeightAlgorithm::ArqRetrain;
  DataType dst_type = DataType::Int8;
  std::optional<bool> channel_wise;  // explicit, else the type's default; none if type unknown
  bool channel_wise_is_default = false;
  SettingSource source;
};

struct ResolvedQuant {
  bool enabled = false;
  std::optional<ResolvedDataQuant> data;      // set when enabled
  std::optional<ResolvedWeightQuant> weight;  // set when enabled
};

struct ResolvedPrune {
  bool enabled = false;
  PruneAlgorithm algorithm = PruneAlgorithm::None;
  std::optional<double> prune_ratio;
  std::optional<bool> ascend_optimized;        // filter pruning; default true
  std::optional<std::string> n_out_of_m_type;  // 4:2; default "M4N2"
  std::optional<uint64_t> update_freq;         // 4:2; default 0
  std::optional<SettingSource> source;         // set when enabled
};

enum class ResolvedFeature { Quantization, Pruning };

// A skip entry that names the layer (by name or type).
struct SkipMatch {
  SkipList list = SkipList::SkipLayers;
  std::string value;
  ByteRange range;
  // The features this entry actually turns off (an override beats a skip for
  // quantization); empty when overrides won for every feature it lists.
  std::vector<ResolvedFeature> disables;
};

struct LayerQuery {
  std::string name;
  std::optional<std::string> type;  // PyTorch module class name, e.g. "Conv2d"
};

struct LayerResolution {
  std::string layer;
  std::optional<std::string> type;
  ResolvedQuant quant;
  ResolvedPrune prune;
  std::vector<SkipMatch> skipped_by;
  std::vector<std::string> notes;  // why something is off, surprises worth telling
};

struct ResolveOptions {
  AmctApi api = AmctApi::Compressed;
  const LayerTypeTable* layer_types = &layer_type_table();
};

LayerResolution resolve_layer(const AmctConfig& config, const LayerQuery& layer,
                              const ResolveOptions& options = {});

}  // namespace amct
