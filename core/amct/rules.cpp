#include "core/amct/rules.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <string_view>
#include <optional>
#include <utility>

#include "core/parallel.h"

namespace amct {
namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// The parts joined into one string allocated once (a 100,000-override
// config gets tens of thousands of these messages; operator+ chains
// reallocate and copy as the text grows).
std::string concat(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  std::string joined;
  joined.reserve(size);
  for (std::string_view part : parts) joined.append(part);
  return joined;
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

// From this many override entries on, their own rules run in two halves on
// two threads.
constexpr size_t kParallelEntries = 4096;

class RuleChecker {
 public:
  RuleChecker(const AmctConfig& config, const RuleContext& context)
      : config_(config), context_(context) {}

  // The entries' own diagnostics (check_entry_rules): name overrides, then
  // type overrides, held in one vector or two.
  struct EntryRulesView {
    const std::vector<EntryRuleDiagnostics>* names;
    const std::vector<EntryRuleDiagnostics>* types;  // null: in `names` after the name overrides
    size_t size() const { return names->size() + (types ? types->size() : 0); }
    const EntryRuleDiagnostics& operator[](size_t i) const {
      return i < names->size() ? (*names)[i] : (*types)[i - names->size()];
    }
  };

  // `given`: the entries' own diagnostics; null: computed here. `release`:
  // the checked config (config_), emptied once the rules are done.
  std::vector<Diagnostic> run(std::optional<EntryRulesView> given, AmctConfig* release = nullptr) {
    // Computed here: the two halves' lists, each made by its own thread
    // (one thread sizing 100,000 of them first was ~5 ms alone).
    std::vector<EntryRuleDiagnostics> computed_first;
    std::vector<EntryRuleDiagnostics> computed_second;
    const bool owned = !given.has_value();  // computed here: moved out, not copied
    if (!given) {
      std::vector<const OverrideEntry*> all;
      all.reserve(config_.name_overrides.size() + config_.type_overrides.size());
      for (const auto* overrides : {&config_.name_overrides, &config_.type_overrides})
        for (const OverrideEntry& entry : *overrides) all.push_back(&entry);
      // Each entry stands alone: two halves on two threads, each checker
      // with its own scratch list.
      const size_t half = all.size() / 2;
      RuleChecker second(config_, context_);
      run_both(
          all.size() >= kParallelEntries,
          [&] {
            computed_first.resize(half);
            for (size_t i = 0; i < half; ++i) entry_rules_into(*all[i], computed_first[i]);
          },
          [&] {
            computed_second.resize(all.size() - half);
            for (size_t i = half; i < all.size(); ++i) second.entry_rules_into(*all[i], computed_second[i - half]);
          });
      given = EntryRulesView{&computed_first, &computed_second};
    }
    const auto computed = [&](size_t i) -> EntryRuleDiagnostics& {
      return i < computed_first.size() ? computed_first[i] : computed_second[i - computed_first.size()];
    };
    const EntryRulesView& entries = *given;
    const size_t first_type = config_.name_overrides.size();
    // Each rule in turn over the global blocks and then every entry, as a
    // walk of the whole config would emit them (the final sort is stable).
    auto append = [&](std::vector<Diagnostic> EntryRuleDiagnostics::*rule, size_t from) {
      for (size_t i = from; i < entries.size(); ++i) {
        if (owned) {
          std::vector<Diagnostic>& own = computed(i).*rule;
          diagnostics_.insert(diagnostics_.end(), std::make_move_iterator(own.begin()),
                              std::make_move_iterator(own.end()));
        } else {
          entries[i].append_to(rule, diagnostics_);
        }
      }
    };
    const BlockSource global = global_source();
    // The SoC rules and the duplicate rules (a hash table over every entry)
    // run beside the others on a big config; their diagnostics follow, in
    // that order, as in one pass.
    RuleChecker soc_features(config_, context_);
    RuleChecker duplicates(config_, context_);
    run_both(
        entries.size() >= kParallelEntries,
        [&] {
          check_batch_num();
          check_blocks(global);
          append(&EntryRuleDiagnostics::blocks, 0);
          check_empty_config();
          check_api(global);
          append(&EntryRuleDiagnostics::api, 0);
          check_layer_types(entries, first_type);
          append(&EntryRuleDiagnostics::channel_wise, first_type);
          check_dtypes(global);
          append(&EntryRuleDiagnostics::dtypes, 0);
        },
        [&] {
          soc_features.check_soc_features();
          duplicates.check_duplicate_overrides(config_.name_overrides, "override_layer_configs", "layer");
          duplicates.check_duplicate_overrides(config_.type_overrides, "override_layer_types", "layer type");
          duplicates.check_duplicate_skips();
        });
    for (RuleChecker* after : {&soc_features, &duplicates})
      diagnostics_.insert(diagnostics_.end(), std::make_move_iterator(after->diagnostics_.begin()),
                          std::make_move_iterator(after->diagnostics_.end()));
    // The entries' emptied lists (five vectors an entry) and the released
    // config are freed beside the sort instead of after it.
    run_both(
        owned && entries.size() >= kParallelEntries,
        [&] {
          sort_by_start(diagnostics_);
          std::vector<EntryRuleDiagnostics>().swap(computed_first);
        },
        [&] {
          std::vector<EntryRuleDiagnostics>().swap(computed_second);
          if (release != nullptr) *release = AmctConfig();
        });
    return std::move(diagnostics_);
  }

  // The rules that look at one override entry alone, appended to `out`'s lists.
  void entry_rules_into(const OverrideEntry& entry, EntryRuleDiagnostics& out) {
    const BlockSource source = source_of(entry);
    collect_into(out.blocks, [&] { check_blocks(source); });
    collect_into(out.api, [&] { check_api(source); });
    if (entry.kind == OverrideKind::ByType) {
      collect_into(out.layer_type, [&] { check_configured_layer_type(entry); });
      collect_into(out.channel_wise, [&] { check_channel_wise_linear(entry); });
    }
    collect_into(out.dtypes, [&] { check_dtypes(source); });
  }

 private:
  // One place quantization/pruning settings come from: the global blocks or
  // one override entry.
  struct BlockSource {
    const OverrideEntry* entry = nullptr;  // null: global
    const DataQuantBlock* data = nullptr;
    const WeightQuantBlock* weight = nullptr;
    const PruneBlock* prune = nullptr;
  };

  BlockSource global_source() const {
    BlockSource global;
    global.data = config_.data ? &*config_.data : nullptr;
    global.weight = config_.weight ? &*config_.weight : nullptr;
    global.prune = config_.prune ? &*config_.prune : nullptr;
    return global;
  }
  static BlockSource source_of(const OverrideEntry& entry) {
    BlockSource source;
    source.entry = &entry;
    source.data = entry.data ? &*entry.data : nullptr;
    source.weight = entry.weight ? &*entry.weight : nullptr;
    source.prune = entry.prune ? &*entry.prune : nullptr;
    return source;
  }

  template <typename Visit>
  void for_each_block(Visit visit) const {
    visit(global_source());
    for (const auto* overrides : {&config_.name_overrides, &config_.type_overrides})
      for (const OverrideEntry& entry : *overrides) visit(source_of(entry));
  }

  // What `check` adds, appended to `target` instead of the diagnostics so
  // far. Swaps, not moves into temporaries: 100,000 entries run this five
  // times each, and the moved-from vectors' destructors were a visible share.
  template <typename Check>
  void collect_into(std::vector<Diagnostic>& target, Check check) {
    diagnostics_.swap(target);
    check();
    diagnostics_.swap(target);
  }

  void add(ByteRange range, Severity severity, const char* code, std::string message,
           std::vector<RelatedInformation> related = {}) {
    diagnostics_.push_back({range, severity, code, std::move(message), std::move(related)});
  }

  // ------------------------------------------------------------ values

  void check_batch_num() {
    if (config_.batch_num && config_.batch_num->value == 0) {
      add(config_.batch_num->range, Severity::Error, "batch-num-zero",
          "batch_num is 0: AMCT requires at least one batch and stops before training. "
          "Set batch_num: 1 or more (the default is 1).");
    }
  }

  void check_blocks(const BlockSource& source) {
    if (source.data) check_data_block(*source.data);
    if (source.prune) check_prune_block(*source.prune);
  }

  void check_data_block(const DataQuantBlock& block) {
    if (!block.clip) return;
    const ClipMaxMin& clip = *block.clip;
    if (!clip.clip_max || !clip.clip_min) {
      const char* missing = clip.clip_max ? "clip_min" : "clip_max";
      const char* example = clip.clip_max ? "clip_min: -6.0" : "clip_max: 6.0";
      add(clip.field_range, Severity::Error, "clip-range",
          std::string("clip_max_min has no ") + missing +
              ": AMCT needs both initial bounds and stops with an error. Add " + example +
              ", or remove clip_max_min to let AMCT initialise the range itself (IFMR).");
    }
    if (clip.clip_max && !(clip.clip_max->value > 0)) {
      add(clip.clip_max->range, Severity::Error, "clip-range",
          concat({"clip_max is ", format_number(clip.clip_max->value),
                  ": AMCT requires clip_max > 0 and rejects the config. Set the initial upper bound "
                  "of the activations, e.g. clip_max: 6.0."}));
    }
    if (clip.clip_min && !(clip.clip_min->value < 0)) {
      add(clip.clip_min->range, Severity::Error, "clip-range",
          concat({"clip_min is ", format_number(clip.clip_min->value),
                  ": AMCT requires clip_min < 0 and rejects the config. Set a negative initial lower "
                  "bound, e.g. clip_min: -6.0; for activations that are never negative (after ReLU) "
                  "add fixed_min: true, which fixes the lower bound at 0."}));
    }
  }

  void check_prune_block(const PruneBlock& block) {
    if (block.pruner == PrunerKind::FilterPruner &&
        block.algorithm == PruneAlgorithm::None) {
      add(block.pruner_range, Severity::Error, "missing-prune-algorithm",
          "filter_pruner has no balanced_l2_norm_filter_prune: AMCT finds no pruning algorithm "
          "and stops. Add balanced_l2_norm_filter_prune { prune_ratio: 0.3 } inside it.");
    }
    if (block.pruner == PrunerKind::NOutOfMPruner && block.algorithm == PruneAlgorithm::None) {
      add(block.pruner_range, Severity::Error, "missing-prune-algorithm",
          "n_out_of_m_pruner has no l1_selective_prune: AMCT finds no pruning algorithm and "
          "stops. Add l1_selective_prune { n_out_of_m_type: M4N2 } inside it.");
    }
    if (block.algorithm == PruneAlgorithm::BalancedL2NormFilterPrune) {
      if (!block.prune_ratio) {
        add(block.algorithm_range, Severity::Error, "missing-prune-algorithm",
            "balanced_l2_norm_filter_prune has no prune_ratio: AMCT cannot tell how many output "
            "channels to remove and stops. Add prune_ratio: 0.3 (the fraction of channels "
            "pruned, between 0 and 1).");
      } else if (!(block.prune_ratio->value > 0 && block.prune_ratio->value < 1)) {
        add(block.prune_ratio->range, Severity::Error, "prune-ratio-range",
            "prune_ratio " + format_number(block.prune_ratio->value) +
                " is outside (0, 1): AMCT rejects it. Use the fraction of output channels to "
                "remove, e.g. prune_ratio: 0.3.");
      }
    }
  }

  // ------------------------------------------------------------ whole config

  void check_empty_config() {
    // create_quant_retrain_config quantizes with the defaults when the file
    // names no block; the prune and compressed APIs work out what to do from
    // the content and reject a config that asks for nothing.
    if (context_.api == AmctApi::Quant) return;
    if (config_.has_quant_content() || config_.has_prune_content()) return;
    add(ByteRange{0, 0}, Severity::Error, "empty-config",
        "The config has neither quantization settings (retrain_data_quant_config, "
        "retrain_weight_quant_config) nor pruning settings (a prune_config with a pruner): "
        "AMCT rejects it. Add retrain_weight_quant_config { arq_retrain {} } for "
        "quantization-aware training or a prune_config for pruning.");
  }

  void check_api(const BlockSource& source) {
    if (context_.api != AmctApi::Quant || !source.prune) return;
    add(source.prune->field_range, Severity::Error, "api-prune-content",
        "prune_config in a config for create_quant_retrain_config (API mode quant): that API "
        "accepts quantization settings only and rejects the config. Remove prune_config, or "
        "use the compressed API (--api compressed or `# amct-api: compressed`) to quantize and "
        "prune together.");
  }

  // ------------------------------------------------------------ layer types

  std::vector<Feature> features_in_use() const {
    std::vector<Feature> features;
    if (context_.api == AmctApi::Quant || config_.has_quant_content()) {
      features.push_back(Feature::Quantization);
    }
    bool filter = false, selective = false;
    for_each_block([&](const BlockSource& source) {
      if (!source.prune) return;
      filter |= source.prune->pruner == PrunerKind::FilterPruner;
      selective |= source.prune->pruner == PrunerKind::NOutOfMPruner;
    });
    if (filter) features.push_back(Feature::FilterPruning);
    if (selective) features.push_back(Feature::SelectivePruning);
    return features;
  }

  static Feature feature_of(PrunerKind pruner) {
    return pruner == PrunerKind::NOutOfMPruner ? Feature::SelectivePruning
                                               : Feature::FilterPruning;
  }

  std::string did_you_mean(std::string_view type) const {
    const auto lower = [](std::string_view text) {
      std::string out(text);
      for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
      return out;
    };
    for (const LayerTypeInfo& info : context_.layer_types->types) {
      if (lower(info.type) == lower(type)) return " Did you mean " + quoted(info.type) + "?";
    }
    return "";
  }

  enum class Requirement { AnyOf, AllOf };

  // Skip lists need a type that at least one feature in use handles
  // (AnyOf); an override entry needs one that handles every feature its
  // blocks configure (AllOf). Reports the type once, naming what fails.
  void require_type(const Located<std::string>& type, const std::vector<Feature>& features,
                    Requirement requirement, const std::string& where, const char* amct_says) {
    const LayerTypeInfo* info = context_.layer_types->find(type.value);
    std::vector<Feature> failing;
    for (Feature feature : features) {
      if (!info || !info->supports(feature)) failing.push_back(feature);
    }
    if (failing.empty()) return;
    if (requirement == Requirement::AnyOf && failing.size() < features.size()) return;
    std::string failing_names;
    for (Feature feature : failing) {
      if (!failing_names.empty()) {
        failing_names += requirement == Requirement::AnyOf ? " or " : " and ";
      }
      failing_names += feature_name(feature);
    }
    // The types that would do: any failing feature (AnyOf) or all of them (AllOf).
    std::vector<std::string> supported_types;
    for (const LayerTypeInfo& candidate : context_.layer_types->types) {
      const auto supported = [&](Feature feature) { return candidate.supports(feature); };
      if (requirement == Requirement::AnyOf
              ? std::any_of(failing.begin(), failing.end(), supported)
              : std::all_of(failing.begin(), failing.end(), supported)) {
        supported_types.push_back(candidate.type);
      }
    }
    const std::string suggestion = did_you_mean(type.value);
    std::string message = "layer type " + quoted(type.value) + " in " + where +
                          (info ? " does not support " : " is not a layer type AMCT supports for ") +
                          failing_names + ": AMCT " + amct_says + ". Supported types: " +
                          join_names(supported_types) + "." + suggestion;
    if (!info && suggestion.empty()) {
      message += " Use the PyTorch module class name, e.g. \"Conv2d\".";
    }
    add(type.range, Severity::Error, "unsupported-layer-type", std::move(message));
  }

  // A type override entry with blocks needs a type that handles every
  // feature they configure: a verdict about the entry alone.
  void check_configured_layer_type(const OverrideEntry& entry) {
    if (!entry.key) return;
    const std::vector<Feature> configured = configured_features(entry);
    if (configured.empty()) return;
    require_type(*entry.key, configured, Requirement::AllOf, "override_layer_types", kOverrideTypesSay);
  }

  static std::vector<Feature> configured_features(const OverrideEntry& entry) {
    std::vector<Feature> configured;
    if (entry.has_quant_block()) configured.push_back(Feature::Quantization);
    if (entry.has_pruner()) configured.push_back(feature_of(entry.prune->pruner));
    return configured;
  }

  static constexpr const char* kOverrideTypesSay = "stops with \"override layers types not supported\"";

  void check_layer_types(const EntryRulesView& entries, size_t first_type) {
    const std::vector<Feature> in_use = features_in_use();
    const std::vector<Feature> all_features = {Feature::Quantization, Feature::FilterPruning,
                                               Feature::SelectivePruning};
    std::vector<Feature> prune_in_use;
    for (Feature feature : in_use) {
      if (feature != Feature::Quantization) prune_in_use.push_back(feature);
    }
    const std::vector<Feature> any_prune = {Feature::FilterPruning, Feature::SelectivePruning};

    for (size_t i = 0; i < config_.type_overrides.size(); ++i) {
      const OverrideEntry& entry = config_.type_overrides[i];
      if (!entry.key) continue;
      if (entry.has_quant_block() || entry.has_pruner()) {
        entries[first_type + i].append_to(&EntryRuleDiagnostics::layer_type, diagnostics_);
      } else {
        // An entry with no blocks still selects the layers' quantization
        // source; it must name a type some feature in use handles.
        require_type(*entry.key, in_use.empty() ? all_features : in_use, Requirement::AnyOf,
                     "override_layer_types", kOverrideTypesSay);
      }
    }
    for (const SkipEntry& skip : config_.skips) {
      if (!skip_list_by_type(skip.list)) continue;
      const Located<std::string> type{skip.value, skip.range};
      const char* says = "rejects skip layer types it does not support for that feature";
      std::vector<Feature> accepted;
      switch (skip.list) {
        case SkipList::QuantSkipTypes: accepted = {Feature::Quantization}; break;
        case SkipList::RegularPruneSkipTypes:
          accepted = prune_in_use.empty() ? any_prune : prune_in_use;
          break;
        default: accepted = in_use.empty() ? all_features : in_use; break;
      }
      require_type(type, accepted, Requirement::AnyOf, skip_list_name(skip.list), says);
    }
  }

  void check_channel_wise_linear(const OverrideEntry& entry) {
    if (!entry.key || !entry.weight || !entry.weight->channel_wise) return;
    const LayerTypeInfo* info = context_.layer_types->find(entry.key->value);
    if (!info || info->channel_wise_allowed || !entry.weight->channel_wise->value) return;
    add(entry.weight->channel_wise->range, Severity::Error, "channel-wise-linear",
        "channel_wise: true for " + info->type +
            " layers: AMCT raises \"layer can not be channelwised\" (a " + info->type +
            " weight gets one scale per tensor). Set channel_wise: false, the default for " +
            info->type + ".");
  }

  // ------------------------------------------------------------ data types

  std::string socs_without(bool (*has)(const ProductSeries&)) const {
    return join_names(context_.socs->patterns_where(has, false));
  }
  std::string socs_with(bool (*has)(const ProductSeries&)) const {
    return join_names(context_.socs->patterns_where(has, true));
  }
  bool soc_unknown() const { return context_.soc.has_value() && !context_.series; }

  static std::string pair_name(DataType data, DataType weight) {
    return "A" + std::to_string(data_type_bits(data)) + "W" +
           std::to_string(data_type_bits(weight));
  }

  void check_dtypes(const BlockSource& source) {
    const Located<DataType>* data_type =
        source.data && source.data->dst_type ? &*source.data->dst_type : nullptr;
    const Located<DataType>* weight_type =
        source.weight && source.weight->dst_type ? &*source.weight->dst_type : nullptr;
    for (const Located<DataType>* type : {data_type, weight_type}) {
      if (type && type->value == DataType::Int16) {
        add(type->range, Severity::Error, "int16-unsupported",
            "INT16 is in the DataType enum, but the current AMCT version quantizes only to "
            "INT8 and INT4 and rejects it. Use dst_type: INT8.");
      }
    }
    check_pair(source, data_type, weight_type);
  }

  void check_pair(const BlockSource& source, const Located<DataType>* data_type,
                  const Located<DataType>* weight_type) {
    const DataType data = data_type ? data_type->value : DataType::Int8;
    const DataType weight = weight_type ? weight_type->value : DataType::Int8;
    const std::string pair = pair_name(data, weight);
    if (pair == "A8W8" || pair == "A16W8" || pair == "A8W4") return;
    // Explain where an implicit INT8 comes from: in an override entry a
    // missing block gets AMCT's default, not the global block.
    std::string implicit;
    if (!weight_type) {
      implicit = source.entry ? "; this entry sets no weight dst_type, so AMCT uses the default "
                                "INT8, not the global block"
                              : "; no weight dst_type: the default INT8";
    } else if (!data_type) {
      implicit = source.entry ? "; this entry sets no activation dst_type, so AMCT uses the "
                                "default INT8, not the global block"
                              : "; no activation dst_type: the default INT8";
    }
    std::string message;
    ByteRange range;
    if (data == DataType::Int4) {
      range = data_type->range;
      const bool listed = pair == "A4W4";
      message = concat({"INT4 activations with ", data_type_name(weight), " weights (", pair, implicit, "): ",
                        listed ? "A4W4 is listed in the parameter table, but AMCT's "
                                 "quantization-aware training rejects INT4 activations"
                               : std::string_view(pair),
                        listed ? "" : " is not a supported pair and AMCT's "
                                      "quantization-aware training rejects INT4 activations",
                        ". Supported pairs: A8W8, A16W8, A8W4. Set this dst_type to INT8 (for 4-bit "
                        "weights, set dst_type: INT4 in retrain_weight_quant_config instead)."});
    } else {
      range = weight_type ? weight_type->range : data_type->range;
      message = concat({data_type_name(data), " activations with ", data_type_name(weight), " weights (", pair,
                        implicit,
                        "): not a pair AMCT supports; it rejects the config. Supported pairs: A8W8, A16W8, "
                        "A8W4."});
    }
    add(range, Severity::Error, "dtype-pair", std::move(message));
  }

  // SoC-dependent features. With a SoC: an error on every use it cannot
  // run. Without one: a single warning per feature on its first use (related
  // information points at the others), naming the SoCs that cannot run it.
  void check_soc_feature(const std::vector<ByteRange>& uses, bool (*has)(const ProductSeries&),
                         const char* code, const std::string& what, const std::string& fix) {
    if (uses.empty() || soc_unknown()) return;
    if (context_.series) {
      if (has(*context_.series)) return;
      for (const ByteRange& range : uses) {
        add(range, Severity::Error, code,
            what + " on " + *context_.soc + " (" + context_.series->display_name +
                "): this SoC cannot run it; only " + socs_with(has) + " can. " + fix);
      }
      return;
    }
    static const SharedText kAlsoUsedHere("also used here");  // thousands of uses share it
    std::vector<RelatedInformation> related;
    related.reserve(uses.size());
    for (size_t i = 1; i < uses.size(); ++i) related.push_back({uses[i], kAlsoUsedHere});
    add(uses.front(), Severity::Warning, code,
        what + " runs only on " + socs_with(has) + "; not on " + socs_without(has) +
            ". Name the target SoC with --soc or a `# soc:` header to check it.",
        std::move(related));
  }

  void check_soc_features() {
    std::vector<ByteRange> int4_weights, sparsity;
    for_each_block([&](const BlockSource& source) {
      if (source.weight && source.weight->dst_type &&
          source.weight->dst_type->value == DataType::Int4) {
        int4_weights.push_back(source.weight->dst_type->range);
      }
      if (source.prune && source.prune->pruner == PrunerKind::NOutOfMPruner) {
        sparsity.push_back(source.prune->pruner_range);
      }
    });
    // INT4 activations are not checked here: dtype-pair rejects them on every SoC.
    check_soc_feature(
        int4_weights, [](const ProductSeries& series) { return series.int4; },
        "soc-unsupported-dtype", "INT4 weight quantization",
        "Use dst_type: INT8, or target a SoC that runs INT4.");
    check_soc_feature(
        sparsity, [](const ProductSeries& series) { return series.sparsity_4_2; },
        "soc-unsupported-sparsity", "4:2 structured sparsity (n_out_of_m_pruner)",
        "Use filter_pruner (channel pruning) instead, or target a SoC that runs 4:2 sparsity.");
  }

  // ------------------------------------------------------------ duplicates

  void check_duplicate_overrides(const std::vector<OverrideEntry>& entries, const char* field,
                                 const char* what) {
    FirstOccurrence<const OverrideEntry*> first_by_key(entries.size());
    for (const OverrideEntry& entry : entries) {
      if (!entry.key) continue;
      const OverrideEntry* const* first = first_by_key.find_or_add(0, entry.key->value, &entry);
      if (!first) continue;
      add(entry.key->range, Severity::Error, "duplicate-override",
          std::string("a second ") + field + " entry for " + what + " " +
              quoted(entry.key->value) + ": AMCT stops with an error (each " + what +
              " may be overridden once). Merge the two entries into one.",
          {{(*first)->key->range, std::string("first ") + field + " entry for " +
                                      quoted(entry.key->value)}});
    }
  }

  void check_duplicate_skips() {
    // Keyed by list and value: the same name in two lists is a union, not a repeat.
    FirstOccurrence<const SkipEntry*> first_in_list(config_.skips.size());
    for (const SkipEntry& skip : config_.skips) {
      const SkipEntry* const* first = first_in_list.find_or_add(static_cast<size_t>(skip.list), skip.value, &skip);
      if (!first) continue;
      add(skip.range, Severity::Warning, "duplicate-skip",
          quoted(skip.value) + " is already in " + skip_list_name(skip.list) +
              ": AMCT ignores the repeat (it de-duplicates the list). Remove this entry.",
          {{(*first)->range, std::string("first ") + skip_list_name(skip.list) + " entry " +
                                 quoted(skip.value)}});
    }
  }

  // The first item seen with each (group, key): an open-addressing table
  // over the keys' hashes. The duplicate rules run over every override entry
  // after each keystroke; a node-based map allocated once per entry.
  template <typename Item>
  class FirstOccurrence {
   public:
    explicit FirstOccurrence(size_t capacity) {
      size_t size = 16;
      while (size < capacity * 2) size *= 2;
      slots_.assign(size, 0);
      mask_ = size - 1;
      added_.reserve(capacity);  // find_or_add() hands out pointers into it
      // The keys stay valid: they point into the config.
    }
    // The item first added with this group and key, or null after adding `item`.
    const Item* find_or_add(size_t group, std::string_view key, Item item) {
      const uint64_t hash = std::hash<std::string_view>{}(key) ^ (group * 0x9E3779B97F4A7C15ull);
      const uint32_t tag = static_cast<uint32_t>(hash >> 32);
      for (size_t at = hash & mask_;; at = (at + 1) & mask_) {
        uint64_t& slot = slots_[at];
        if (slot == 0) {
          added_.push_back({group, key, item});
          slot = (uint64_t{tag} << 32) | added_.size();
          return nullptr;
        }
        if (static_cast<uint32_t>(slot >> 32) != tag) continue;
        const Added& other = added_[static_cast<uint32_t>(slot) - 1];
        if (other.group == group && other.key == key) return &other.item;
      }
    }

   private:
    // A slot is the hash's high half and 1 + the index of its item in
    // added_ (0: empty): 8 bytes, so that the table of 10,000 entries stays
    // in the cache while it is probed after each keystroke.
    std::vector<uint64_t> slots_;
    struct Added {
      size_t group = 0;
      std::string_view key;
      Item item{};
    };
    std::vector<Added> added_;
    size_t mask_ = 0;
  };

  const AmctConfig& config_;
  const RuleContext& context_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

std::optional<AmctApi> parse_amct_api(std::string_view text) {
  if (text == "quant") return AmctApi::Quant;
  if (text == "prune") return AmctApi::Prune;
  if (text == "compressed") return AmctApi::Compressed;
  return std::nullopt;
}

const char* amct_api_name(AmctApi api) {
  switch (api) {
    case AmctApi::Quant: return "quant";
    case AmctApi::Prune: return "prune";
    case AmctApi::Compressed: return "compressed";
  }
  return "";
}

const std::vector<RuleCode>& amct_rule_codes() {
  static const std::vector<RuleCode> codes = {
      {"clip-range", Severity::Error,
       "clip_max_min needs both clip_max > 0 and clip_min < 0."},
      {"batch-num-zero", Severity::Error, "batch_num must be at least 1."},
      {"prune-ratio-range", Severity::Error, "prune_ratio must be between 0 and 1 (exclusive)."},
      {"missing-prune-algorithm", Severity::Error,
       "A pruner needs its algorithm block, and balanced_l2_norm_filter_prune needs prune_ratio."},
      {"empty-config", Severity::Error,
       "The config has neither quantization nor pruning settings; AMCT rejects it."},
      {"unsupported-layer-type", Severity::Error,
       "An override or skip layer type is not supported by AMCT for the feature used."},
      {"channel-wise-linear", Severity::Error,
       "channel_wise: true is invalid for Linear layers (\"layer can not be channelwised\")."},
      {"dtype-pair", Severity::Error,
       "The activation/weight data type pair is not supported (A8W8, A16W8, A8W4)."},
      {"int16-unsupported", Severity::Error,
       "INT16 is not supported by the current AMCT version (INT8 and INT4 only)."},
      {"duplicate-override", Severity::Error,
       "A layer name or layer type is overridden twice; AMCT stops with an error."},
      {"duplicate-skip", Severity::Warning,
       "A skip list repeats an entry; AMCT de-duplicates it."},
      {"soc-unknown", Severity::Error, "The SoC name is not in the capability table."},
      {"soc-unsupported-dtype", Severity::Error,
       "The target SoC cannot run this data type (INT4 runs only on Ascend310P*)."},
      {"soc-unsupported-sparsity", Severity::Error,
       "The target SoC cannot run 4:2 structured sparsity (n_out_of_m_pruner)."},
      {"api-prune-content", Severity::Error,
       "create_quant_retrain_config (API mode quant) rejects prune settings."},
      {"api-unknown", Severity::Error, "The AMCT API mode must be quant, prune or compressed."},
  };
  return codes;
}

std::vector<Diagnostic> check_rules(const AmctConfig& config, const RuleContext& context) {
  return RuleChecker(config, context).run(std::nullopt);
}

std::vector<Diagnostic> check_rules_and_release(AmctConfig&& config, const RuleContext& context) {
  return RuleChecker(config, context).run(std::nullopt, &config);
}

EntryRuleDiagnostics check_entry_rules(const OverrideEntry& entry, const RuleContext& context) {
  static const AmctConfig kNoConfig;
  EntryRuleDiagnostics out;
  RuleChecker(kNoConfig, context).entry_rules_into(entry, out);
  return out;
}

std::vector<Diagnostic> check_rules(const AmctConfig& config, const RuleContext& context,
                                    const std::vector<EntryRuleDiagnostics>& entry_rules) {
  return RuleChecker(config, context).run(RuleChecker::EntryRulesView{&entry_rules, nullptr});
}

std::vector<Diagnostic> check_rules(const AmctConfig& config, const RuleContext& context,
                                    const std::vector<EntryRuleDiagnostics>& name_entry_rules,
                                    const std::vector<EntryRuleDiagnostics>& type_entry_rules) {
  return RuleChecker(config, context).run(RuleChecker::EntryRulesView{&name_entry_rules, &type_entry_rules});
}

void EntryRuleDiagnostics::append_to(const std::vector<Diagnostic> EntryRuleDiagnostics::*list,
                                     std::vector<Diagnostic>& out) const {
  const std::vector<Diagnostic>& own = this->*list;
  const size_t first = out.size();
  out.insert(out.end(), own.begin(), own.end());
  if (pending_shift == 0) return;
  for (size_t i = first; i < out.size(); ++i) {
    Diagnostic& diagnostic = out[i];
    diagnostic.range.start += pending_shift;
    diagnostic.range.end += pending_shift;
    for (RelatedInformation& related : diagnostic.related) {
      related.range.start += pending_shift;
      related.range.end += pending_shift;
    }
  }
}

}  // namespace amct
