#include "core/amct/config.h"
#include "core/parallel.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <new>
#include <string_view>

namespace amct {
namespace {

using model::Field;
using model::Message;
using model::ScalarValue;

// The fields of one or more occurrences of a message as Python's
// text_format.Merge leaves them (see config.h). Only fields bound to a
// descriptor count: the binder reports the others.
class MergedView {
 public:
  explicit MergedView(const Message& message) { add_fields_of(message); }

  // The merged value of a singular message field: the fields of every
  // surviving occurrence, in order.
  MergedView child(std::string_view name) const {
    MergedView merged;
    for_each_occurrence(name, [&](const Field& field) {
      for (const Message& message : field.messages) merged.add_fields_of(message);
    });
    return merged;
  }

  const Field* last(std::string_view name) const {
    const Group* group = find(name);
    if (!group) return nullptr;
    return group->more.empty() ? group->first : group->more.back();
  }

  // Calls visit(const Field&) for each surviving occurrence, in source order.
  template <typename Visit>
  void for_each_occurrence(std::string_view name, Visit visit) const {
    const Group* group = find(name);
    if (!group) return;
    visit(*group->first);
    for (const Field* field : group->more) visit(*field);
  }

 private:
  // Occurrences of one field. Most fields occur once: `more` stays empty and
  // costs no allocation (this runs for every override of 100,000-entry files).
  struct Group {
    const google::protobuf::FieldDescriptor* descriptor = nullptr;
    const Field* first = nullptr;
    std::vector<const Field*> more;
  };

  MergedView() = default;

  const Group* find(std::string_view name) const {
    for (const Group& group : groups_) {
      if (group.descriptor->name() == name) return &group;
    }
    return nullptr;
  }

  void add_fields_of(const Message& message) {
    for (const Field& field : message.fields) add(field);
  }

  void add(const Field& field) {
    const google::protobuf::FieldDescriptor* descriptor = field.descriptor;
    if (!descriptor) return;
    // Setting a member of a oneof clears the member set before it.
    if (const google::protobuf::OneofDescriptor* oneof = descriptor->containing_oneof()) {
      groups_.erase_if([&](const Group& group) {
        return group.descriptor != descriptor && group.descriptor->containing_oneof() == oneof;
      });
    }
    for (Group& group : groups_) {
      if (group.descriptor != descriptor) continue;
      const bool keeps_every_occurrence =
          descriptor->is_repeated() ||
          descriptor->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE;
      if (keeps_every_occurrence) {
        group.more.push_back(&field);
      } else {  // a singular scalar keeps the last
        group.first = &field;
        group.more.clear();
      }
      return;
    }
    groups_.push_back({descriptor, &field, {}});
  }

  // The groups in first-seen order: the first few in place (a view per
  // block of a 100,000-override config, eight blocks an override: no
  // allocation for them), more on the heap.
  class Groups {
   public:
    Groups() = default;
    Groups(Groups&& other) noexcept : spilled_(std::move(other.spilled_)) {
      for (size_t i = 0; i < other.count_; ++i) new (slot(i)) Group(std::move(*other.slot(i)));
      count_ = other.count_;
      other.clear_in_place();
    }
    Groups(const Groups&) = delete;
    Groups& operator=(const Groups&) = delete;
    Groups& operator=(Groups&&) = delete;
    ~Groups() { clear_in_place(); }

    Group* begin() { return spilled_.empty() ? slot(0) : spilled_.data(); }
    Group* end() { return begin() + size(); }
    const Group* begin() const { return spilled_.empty() ? slot(0) : spilled_.data(); }
    const Group* end() const { return begin() + size(); }
    size_t size() const { return spilled_.empty() ? count_ : spilled_.size(); }
    void push_back(Group group) {
      if (spilled_.empty() && count_ < kInPlace) {
        new (slot(count_++)) Group(std::move(group));
        return;
      }
      if (spilled_.empty()) {
        spilled_.reserve(2 * kInPlace);
        for (size_t i = 0; i < count_; ++i) spilled_.push_back(std::move(*slot(i)));
        clear_in_place();
      }
      spilled_.push_back(std::move(group));
    }
    template <typename Predicate>
    void erase_if(Predicate predicate) {
      if (!spilled_.empty()) {
        std::erase_if(spilled_, predicate);  // (count_ is 0 once spilled)
        return;
      }
      size_t kept = 0;
      for (size_t i = 0; i < count_; ++i) {
        if (predicate(*slot(i))) continue;
        if (kept != i) *slot(kept) = std::move(*slot(i));
        ++kept;
      }
      for (size_t i = kept; i < count_; ++i) slot(i)->~Group();
      count_ = kept;
    }

   private:
    // Raw room: only the groups in use are constructed (a view of a small
    // block builds one or two, not kInPlace).
    Group* slot(size_t i) { return reinterpret_cast<Group*>(storage_ + i * sizeof(Group)); }
    const Group* slot(size_t i) const { return reinterpret_cast<const Group*>(storage_ + i * sizeof(Group)); }
    void clear_in_place() {
      for (size_t i = 0; i < count_; ++i) slot(i)->~Group();
      count_ = 0;
    }

    static constexpr size_t kInPlace = 8;
    alignas(Group) unsigned char storage_[kInPlace * sizeof(Group)];
    size_t count_ = 0;
    std::vector<Group> spilled_;  // all groups once there are more than kInPlace
  };

  Groups groups_;
};

const ScalarValue* last_scalar(const MergedView& view, std::string_view name) {
  const Field* field = view.last(name);
  if (!field || field->scalars.empty()) return nullptr;
  const ScalarValue& value = field->scalars.back();
  return value.kind == ScalarValue::Kind::Invalid ? nullptr : &value;
}

std::optional<Located<double>> read_float(const MergedView& view, std::string_view name) {
  const ScalarValue* value = last_scalar(view, name);
  if (!value) return std::nullopt;
  switch (value->kind) {
    case ScalarValue::Kind::Float: return Located<double>{value->float_value, value->range};
    case ScalarValue::Kind::Int: return Located<double>{double(value->int_value), value->range};
    case ScalarValue::Kind::UInt: return Located<double>{double(value->uint_value), value->range};
    default: return std::nullopt;
  }
}

std::optional<Located<bool>> read_bool(const MergedView& view, std::string_view name) {
  const ScalarValue* value = last_scalar(view, name);
  if (!value || value->kind != ScalarValue::Kind::Bool) return std::nullopt;
  return Located<bool>{value->bool_value, value->range};
}

std::optional<Located<uint64_t>> read_uint(const MergedView& view, std::string_view name) {
  const ScalarValue* value = last_scalar(view, name);
  if (!value) return std::nullopt;
  if (value->kind == ScalarValue::Kind::UInt) return Located<uint64_t>{value->uint_value, value->range};
  if (value->kind == ScalarValue::Kind::Int && value->int_value >= 0) {
    return Located<uint64_t>{uint64_t(value->int_value), value->range};
  }
  return std::nullopt;
}

std::optional<Located<std::string>> read_string(const MergedView& view, std::string_view name) {
  const ScalarValue* value = last_scalar(view, name);
  if (!value || value->kind != ScalarValue::Kind::String) return std::nullopt;
  return Located<std::string>{value->string_value, value->range};
}

std::optional<Located<std::string>> read_enum_name(const MergedView& view, std::string_view name) {
  const ScalarValue* value = last_scalar(view, name);
  if (!value || value->kind != ScalarValue::Kind::Enum || !value->enum_value) return std::nullopt;
  return Located<std::string>{std::string(value->enum_value->name()), value->range};
}

std::optional<Located<DataType>> read_data_type(const MergedView& view, std::string_view name) {
  const ScalarValue* value = last_scalar(view, name);
  if (!value || value->kind != ScalarValue::Kind::Enum || !value->enum_value) return std::nullopt;
  const int number = value->enum_value->number();
  if (number < 0 || number > 2) return std::nullopt;
  return Located<DataType>{DataType(number), value->range};
}

DataQuantBlock read_data_block(const Field& last_field, const MergedView& view) {
  DataQuantBlock block;
  block.field_range = last_field.name_range;
  block.block_range = last_field.range;
  if (const Field* ulq = view.last("ulq_quantize")) {
    block.has_ulq_quantize = true;
    block.algorithm_range = ulq->name_range;
    const MergedView ulq_view = view.child("ulq_quantize");
    if (const Field* clip_field = ulq_view.last("clip_max_min")) {
      const MergedView clip_view = ulq_view.child("clip_max_min");
      ClipMaxMin clip;
      clip.field_range = clip_field->name_range;
      clip.block_range = clip_field->range;
      clip.clip_max = read_float(clip_view, "clip_max");
      clip.clip_min = read_float(clip_view, "clip_min");
      block.clip = clip;
    }
    block.fixed_min = read_bool(ulq_view, "fixed_min");
    block.dst_type = read_data_type(ulq_view, "dst_type");
  }
  return block;
}

WeightQuantBlock read_weight_block(const Field& last_field, const MergedView& view) {
  WeightQuantBlock block;
  block.field_range = last_field.name_range;
  block.block_range = last_field.range;
  for (const auto& [name, algorithm] :
       {std::pair{"arq_retrain", WeightAlgorithm::ArqRetrain},
        std::pair{"ulq_retrain", WeightAlgorithm::UlqRetrain}}) {
    const Field* field = view.last(name);
    if (!field) continue;  // the oneof keeps at most one of them
    block.algorithm = algorithm;
    block.algorithm_range = field->name_range;
    const MergedView algo_view = view.child(name);
    block.dst_type = read_data_type(algo_view, "dst_type");
    block.channel_wise = read_bool(algo_view, "channel_wise");
  }
  return block;
}

PruneBlock read_prune_block(const Field& last_field, const MergedView& view) {
  PruneBlock block;
  block.field_range = last_field.name_range;
  block.block_range = last_field.range;
  if (const Field* filter = view.last("filter_pruner")) {
    block.pruner = PrunerKind::FilterPruner;
    block.pruner_range = filter->name_range;
    block.pruner_block_range = filter->range;
    const MergedView filter_view = view.child("filter_pruner");
    if (const Field* algo = filter_view.last("balanced_l2_norm_filter_prune")) {
      block.algorithm = PruneAlgorithm::BalancedL2NormFilterPrune;
      block.algorithm_range = algo->name_range;
      block.algorithm_block_range = algo->range;
      const MergedView algo_view = filter_view.child("balanced_l2_norm_filter_prune");
      block.prune_ratio = read_float(algo_view, "prune_ratio");
      block.ascend_optimized = read_bool(algo_view, "ascend_optimized");
    }
  } else if (const Field* n_of_m = view.last("n_out_of_m_pruner")) {
    block.pruner = PrunerKind::NOutOfMPruner;
    block.pruner_range = n_of_m->name_range;
    block.pruner_block_range = n_of_m->range;
    const MergedView n_of_m_view = view.child("n_out_of_m_pruner");
    if (const Field* algo = n_of_m_view.last("l1_selective_prune")) {
      block.algorithm = PruneAlgorithm::L1SelectivePrune;
      block.algorithm_range = algo->name_range;
      block.algorithm_block_range = algo->range;
      const MergedView algo_view = n_of_m_view.child("l1_selective_prune");
      block.n_out_of_m_type = read_enum_name(algo_view, "n_out_of_m_type");
      block.update_freq = read_uint(algo_view, "update_freq");
    }
  }
  return block;
}

// Reads the three blocks a global config and an override share.
template <typename Target>
void read_blocks(const MergedView& view, Target& target) {
  if (const Field* field = view.last("retrain_data_quant_config")) {
    target.data = read_data_block(*field, view.child("retrain_data_quant_config"));
  }
  if (const Field* field = view.last("retrain_weight_quant_config")) {
    target.weight = read_weight_block(*field, view.child("retrain_weight_quant_config"));
  }
  if (const Field* field = view.last("prune_config")) {
    target.prune = read_prune_block(*field, view.child("prune_config"));
  }
}

// From this many entries on, the two halves are read on two threads (each
// entry stands alone); a 100,000-entry config spends a tenth of --check here.
constexpr size_t kParallelOverrides = 4096;

void read_override_entry(const Field& field, const Message& message, OverrideKind kind, OverrideEntry& entry) {
  const std::string_view key_name = kind == OverrideKind::ByName ? "layer_name" : "layer_type";
  const MergedView view(message);
  entry.kind = kind;
  entry.field_range = field.name_range;
  entry.block_range = message.range;
  entry.key = read_string(view, key_name);
  read_blocks(view, entry);
}

void read_override_field(const Field& field, OverrideKind kind, std::vector<OverrideEntry>& out) {
  for (const Message& message : field.messages) read_override_entry(field, message, kind, out.emplace_back());
}

struct OverrideBlock {
  const Field* field;
  const Message* message;
};

// The blocks of the override field `field_name` in source order.
std::vector<OverrideBlock> override_blocks(const MergedView& root, std::string_view field_name) {
  std::vector<OverrideBlock> blocks;
  root.for_each_occurrence(field_name, [&](const Field& field) {
    for (const Message& message : field.messages) blocks.push_back({&field, &message});
  });
  return blocks;
}

// How many blocks override_blocks() finds (the override fields are
// repeated messages: every occurrence counts), without the view. Only a
// size to start from: read_override_blocks() sizes its output exactly.
size_t count_override_blocks(const Message& root, const std::string& field_name) {
  if (root.descriptor == nullptr) return 0;
  const google::protobuf::FieldDescriptor* descriptor = root.descriptor->FindFieldByName(field_name);
  if (descriptor == nullptr) return 0;
  size_t count = 0;
  for (const Field& field : root.fields) {
    if (field.descriptor == descriptor) count += field.messages.size();
  }
  return count;
}

// Reads `blocks` into `out`, which holds one new entry per block afterwards
// (it may come sized already with new entries: see extract_config).
void read_override_blocks(const std::vector<OverrideBlock>& blocks, OverrideKind kind, std::vector<OverrideEntry>& out) {
  out.resize(blocks.size());
  const auto read_range = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) read_override_entry(*blocks[i].field, *blocks[i].message, kind, out[i]);
  };
  const size_t half = blocks.size() / 2;
  run_both(
      blocks.size() >= kParallelOverrides, [&] { read_range(0, half); }, [&] { read_range(half, blocks.size()); });
}

// Ranges left at ByteRange{} mean "absent" (an entry's tokens never start at 0 with no length).
void shift(ByteRange& range, uint32_t delta) {
  if (range.start == 0 && range.end == 0) return;
  range.start += delta;
  range.end += delta;
}
template <typename T>
void shift(std::optional<Located<T>>& located, uint32_t delta) {
  if (located) shift(located->range, delta);
}

constexpr SkipList kAllSkipLists[] = {
    SkipList::SkipLayers,          SkipList::SkipLayerTypes,         SkipList::QuantSkipLayers,
    SkipList::QuantSkipTypes,      SkipList::RegularPruneSkipLayers, SkipList::RegularPruneSkipTypes,
};

}  // namespace

const char* data_type_name(DataType type) {
  switch (type) {
    case DataType::Int4: return "INT4";
    case DataType::Int8: return "INT8";
    case DataType::Int16: return "INT16";
  }
  return "";
}

int data_type_bits(DataType type) {
  switch (type) {
    case DataType::Int4: return 4;
    case DataType::Int8: return 8;
    case DataType::Int16: return 16;
  }
  return 0;
}

const char* weight_algorithm_name(WeightAlgorithm algorithm) {
  switch (algorithm) {
    case WeightAlgorithm::ArqRetrain: return "arq_retrain";
    case WeightAlgorithm::UlqRetrain: return "ulq_retrain";
    case WeightAlgorithm::None: return "";
  }
  return "";
}

const char* pruner_name(PrunerKind kind) {
  switch (kind) {
    case PrunerKind::FilterPruner: return "filter_pruner";
    case PrunerKind::NOutOfMPruner: return "n_out_of_m_pruner";
    case PrunerKind::None: return "";
  }
  return "";
}

const char* prune_algorithm_name(PruneAlgorithm algorithm) {
  switch (algorithm) {
    case PruneAlgorithm::BalancedL2NormFilterPrune: return "balanced_l2_norm_filter_prune";
    case PruneAlgorithm::L1SelectivePrune: return "l1_selective_prune";
    case PruneAlgorithm::None: return "";
  }
  return "";
}

const char* skip_list_name(SkipList list) {
  switch (list) {
    case SkipList::SkipLayers: return "skip_layers";
    case SkipList::SkipLayerTypes: return "skip_layer_types";
    case SkipList::QuantSkipLayers: return "quant_skip_layers";
    case SkipList::QuantSkipTypes: return "quant_skip_types";
    case SkipList::RegularPruneSkipLayers: return "regular_prune_skip_layers";
    case SkipList::RegularPruneSkipTypes: return "regular_prune_skip_types";
  }
  return "";
}

bool skip_list_by_type(SkipList list) {
  return list == SkipList::SkipLayerTypes || list == SkipList::QuantSkipTypes ||
         list == SkipList::RegularPruneSkipTypes;
}

bool skip_list_affects_quant(SkipList list) {
  return list == SkipList::SkipLayers || list == SkipList::SkipLayerTypes ||
         list == SkipList::QuantSkipLayers || list == SkipList::QuantSkipTypes;
}

bool skip_list_affects_prune(SkipList list) {
  return list == SkipList::SkipLayers || list == SkipList::SkipLayerTypes ||
         list == SkipList::RegularPruneSkipLayers || list == SkipList::RegularPruneSkipTypes;
}

bool AmctConfig::has_quant_content() const {
  if (data || weight) return true;
  for (const auto* overrides : {&name_overrides, &type_overrides}) {
    for (const OverrideEntry& entry : *overrides) {
      if (entry.has_quant_block()) return true;
    }
  }
  return false;
}

bool AmctConfig::has_prune_content() const {
  if (prune && !prune->empty()) return true;
  for (const auto* overrides : {&name_overrides, &type_overrides}) {
    for (const OverrideEntry& entry : *overrides) {
      if (entry.has_pruner()) return true;
    }
  }
  return false;
}

bool AmctConfig::has_any_prune_config() const {
  if (prune) return true;
  for (const auto* overrides : {&name_overrides, &type_overrides}) {
    for (const OverrideEntry& entry : *overrides) {
      if (entry.prune) return true;
    }
  }
  return false;
}

namespace {

// Skip entries in source order across all lists, so diagnostics come out in order.
void read_skips(const model::Message& root, std::vector<SkipEntry>& skips) {
  // The lists' descriptors are looked up once: the root of a big config has
  // 100,000 fields, and comparing names costs a strlen each.
  std::array<const google::protobuf::FieldDescriptor*, std::size(kAllSkipLists)> list_fields{};
  if (root.descriptor != nullptr) {
    for (size_t i = 0; i < list_fields.size(); ++i)
      list_fields[i] = root.descriptor->FindFieldByName(skip_list_name(kAllSkipLists[i]));
  }
  const auto is_list = [&](const google::protobuf::FieldDescriptor* descriptor, size_t i) {
    if (root.descriptor != nullptr && descriptor->containing_type() == root.descriptor) return descriptor == list_fields[i];
    return descriptor->name() == skip_list_name(kAllSkipLists[i]);
  };
  for (const Field& field : root.fields) {
    if (!field.descriptor) continue;
    for (size_t i = 0; i < std::size(kAllSkipLists); ++i) {
      const SkipList list = kAllSkipLists[i];
      if (!is_list(field.descriptor, i)) continue;
      for (const ScalarValue& value : field.scalars) {
        if (value.kind != ScalarValue::Kind::String) continue;
        skips.push_back({list, value.string_value, value.range});
      }
    }
  }
}

AmctConfig extract_config(const model::Message& root, bool with_overrides) {
  AmctConfig config;
  // On a big root two threads share the part before the entries are read:
  // one makes the name entries (100,000 of them: 45 MB written, ~8 ms),
  // the other reads the root's view, its blocks and the skip lists.
  std::vector<OverrideBlock> name_blocks;
  std::vector<OverrideBlock> type_blocks;
  run_both(
      root.fields.size() >= kParallelOverrides,
      [&] {
        if (with_overrides) config.name_overrides.resize(count_override_blocks(root, "override_layer_configs"));
      },
      [&] {
        const MergedView view(root);
        config.batch_num = read_uint(view, "batch_num");
        if (const Field* field = view.last("batch_num")) config.batch_num_field_range = field->name_range;
        config.fakequant_precision_mode = read_enum_name(view, "fakequant_precision_mode");
        read_blocks(view, config);
        if (with_overrides) {
          name_blocks = override_blocks(view, "override_layer_configs");
          type_blocks = override_blocks(view, "override_layer_types");
        }
        read_skips(root, config.skips);
      });
  if (with_overrides) {
    read_override_blocks(name_blocks, OverrideKind::ByName, config.name_overrides);
    read_override_blocks(type_blocks, OverrideKind::ByType, config.type_overrides);
  }
  return config;
}

}  // namespace

AmctConfig extract_config(const model::Message& root) { return extract_config(root, true); }

AmctConfig extract_config_without_overrides(const model::Message& root) { return extract_config(root, false); }

void extract_override_entries(const model::Field& field, OverrideKind kind, std::vector<OverrideEntry>& out) {
  read_override_field(field, kind, out);
}

std::optional<OverrideKind> override_kind_of(const model::Field& field) {
  if (!field.descriptor) return std::nullopt;
  const std::string& name = field.descriptor->name();
  if (name == "override_layer_configs") return OverrideKind::ByName;
  if (name == "override_layer_types") return OverrideKind::ByType;
  return std::nullopt;
}

void shift_ranges(OverrideEntry& entry, uint32_t delta) {
  shift(entry.field_range, delta);
  shift(entry.block_range, delta);
  shift(entry.key, delta);
  if (entry.data) {
    DataQuantBlock& data = *entry.data;
    shift(data.field_range, delta);
    shift(data.block_range, delta);
    shift(data.algorithm_range, delta);
    if (data.clip) {
      shift(data.clip->field_range, delta);
      shift(data.clip->block_range, delta);
      shift(data.clip->clip_max, delta);
      shift(data.clip->clip_min, delta);
    }
    shift(data.fixed_min, delta);
    shift(data.dst_type, delta);
  }
  if (entry.weight) {
    WeightQuantBlock& weight = *entry.weight;
    shift(weight.field_range, delta);
    shift(weight.block_range, delta);
    shift(weight.algorithm_range, delta);
    shift(weight.dst_type, delta);
    shift(weight.channel_wise, delta);
  }
  if (entry.prune) {
    PruneBlock& prune = *entry.prune;
    shift(prune.field_range, delta);
    shift(prune.block_range, delta);
    shift(prune.pruner_range, delta);
    shift(prune.pruner_block_range, delta);
    shift(prune.algorithm_range, delta);
    shift(prune.algorithm_block_range, delta);
    shift(prune.prune_ratio, delta);
    shift(prune.ascend_optimized, delta);
    shift(prune.n_out_of_m_type, delta);
    shift(prune.update_freq, delta);
  }
}

}  // namespace amct
