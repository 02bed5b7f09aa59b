#pragma once
// AmctConfig: what an AMCTRetrainConfig document says, in AMCT's terms, with
// the byte range of every token a rule or the resolver points at.
//
// Extraction follows what AMCT's reader (Python text_format.Merge) keeps:
//  - a singular scalar given twice keeps the last value;
//  - a singular message given twice is merged (later fields win);
//  - setting a member of a oneof clears the member set before it;
//  - repeated fields (skip lists, overrides) keep every entry in order.
// Fields that did not bind (unknown names, bad values) are ignored here; the
// binder reports them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model/bound.h"

namespace amct {

enum class DataType { Int4 = 0, Int8 = 1, Int16 = 2 };
const char* data_type_name(DataType type);  // "INT4", "INT8", "INT16"
int data_type_bits(DataType type);          // 4, 8, 16

template <typename T>
struct Located {
  T value{};
  ByteRange range;  // the value token
};

struct ClipMaxMin {
  ByteRange field_range;  // `clip_max_min` field name
  ByteRange block_range;  // the whole field
  std::optional<Located<double>> clip_max;
  std::optional<Located<double>> clip_min;
};

// retrain_data_quant_config { ulq_quantize { ... } }
struct DataQuantBlock {
  ByteRange field_range;  // `retrain_data_quant_config` field name
  ByteRange block_range;
  bool has_ulq_quantize = false;
  ByteRange algorithm_range;  // `ulq_quantize` field name (empty if absent)
  std::optional<ClipMaxMin> clip;
  std::optional<Located<bool>> fixed_min;
  std::optional<Located<DataType>> dst_type;
};

enum class WeightAlgorithm { None, ArqRetrain, UlqRetrain };
const char* weight_algorithm_name(WeightAlgorithm algorithm);  // "arq_retrain", "ulq_retrain", ""

// retrain_weight_quant_config { arq_retrain { ... } | ulq_retrain { ... } }
struct WeightQuantBlock {
  ByteRange field_range;
  ByteRange block_range;
  WeightAlgorithm algorithm = WeightAlgorithm::None;
  ByteRange algorithm_range;
  std::optional<Located<DataType>> dst_type;
  std::optional<Located<bool>> channel_wise;
};

enum class PrunerKind { None, FilterPruner, NOutOfMPruner };
enum class PruneAlgorithm { None, BalancedL2NormFilterPrune, L1SelectivePrune };
const char* pruner_name(PrunerKind kind);              // "filter_pruner", "n_out_of_m_pruner", ""
const char* prune_algorithm_name(PruneAlgorithm algo);  // "balanced_l2_norm_filter_prune", ...

// prune_config { filter_pruner { balanced_l2_norm_filter_prune { ... } } | n_out_of_m_pruner {...} }
struct PruneBlock {
  ByteRange field_range;
  ByteRange block_range;
  PrunerKind pruner = PrunerKind::None;
  ByteRange pruner_range;  // `filter_pruner` / `n_out_of_m_pruner` field name
  ByteRange pruner_block_range;
  PruneAlgorithm algorithm = PruneAlgorithm::None;
  ByteRange algorithm_range;
  ByteRange algorithm_block_range;
  std::optional<Located<double>> prune_ratio;
  std::optional<Located<bool>> ascend_optimized;
  std::optional<Located<std::string>> n_out_of_m_type;  // enum value name, "M4N2"
  std::optional<Located<uint64_t>> update_freq;

  bool empty() const { return pruner == PrunerKind::None; }  // no pruner: falls back to global
};

enum class OverrideKind { ByName, ByType };

// One entry of override_layer_configs (by name) or override_layer_types (by type).
struct OverrideEntry {
  OverrideKind kind = OverrideKind::ByName;
  ByteRange field_range;  // `override_layer_configs` / `override_layer_types` field name
  ByteRange block_range;
  std::optional<Located<std::string>> key;  // layer_name / layer_type value
  std::optional<DataQuantBlock> data;
  std::optional<WeightQuantBlock> weight;
  std::optional<PruneBlock> prune;

  bool has_quant_block() const { return data.has_value() || weight.has_value(); }
  bool has_pruner() const { return prune && !prune->empty(); }
};

enum class SkipList {
  SkipLayers,
  SkipLayerTypes,
  QuantSkipLayers,
  QuantSkipTypes,
  RegularPruneSkipLayers,
  RegularPruneSkipTypes,
};
const char* skip_list_name(SkipList list);  // the field name, "quant_skip_layers"
bool skip_list_by_type(SkipList list);      // *_types lists
bool skip_list_affects_quant(SkipList list);
bool skip_list_affects_prune(SkipList list);

struct SkipEntry {
  SkipList list = SkipList::SkipLayers;
  std::string value;
  ByteRange range;  // the string value
};

struct AmctConfig {
  std::optional<Located<uint64_t>> batch_num;
  ByteRange batch_num_field_range;
  std::optional<Located<std::string>> fakequant_precision_mode;
  std::optional<DataQuantBlock> data;
  std::optional<WeightQuantBlock> weight;
  std::optional<PruneBlock> prune;
  std::vector<OverrideEntry> name_overrides;  // source order
  std::vector<OverrideEntry> type_overrides;  // source order
  std::vector<SkipEntry> skips;               // source order, all lists

  // Quantization content anywhere: a global or override data/weight block.
  bool has_quant_content() const;
  // Pruning content anywhere: a prune_config with a pruner (global or override).
  bool has_prune_content() const;
  // Any prune_config field at all (even empty), global or override.
  bool has_any_prune_config() const;
};

AmctConfig extract_config(const model::Message& root);

// The parts of extract_config(), for re-extracting only what an edit touched:
// everything but the override entries, and the entries one top-level
// `override_layer_configs` / `override_layer_types` field holds.
// extract_config() = extract_config_without_overrides() + the entries of
// every such root field in source order.
AmctConfig extract_config_without_overrides(const model::Message& root);
void extract_override_entries(const model::Field& field, OverrideKind kind, std::vector<OverrideEntry>& out);
// The kind of override a root field holds, if it is one.
std::optional<OverrideKind> override_kind_of(const model::Field& field);
// Moves every byte range of the entry (modular: a "negative" delta wraps).
void shift_ranges(OverrideEntry& entry, uint32_t delta);

}  // namespace amct
