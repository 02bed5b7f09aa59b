#pragma once
// AMCT's run-time checks, given before a training job starts. Each rule has a
// stable code (see kRuleCodes) and points at the offending token with a
// message saying what AMCT would do and how to fix it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/amct/capabilities.h"
#include "core/amct/config.h"
#include "core/syntax/diagnostic.h"

namespace amct {

// Which AMCT API reads the config: create_quant_retrain_config (quant),
// the prune API (prune), or the compressed API (compressed, the default).
enum class AmctApi { Quant, Prune, Compressed };
std::optional<AmctApi> parse_amct_api(std::string_view text);  // "quant" | "prune" | "compressed"
const char* amct_api_name(AmctApi api);

struct RuleContext {
  AmctApi api = AmctApi::Compressed;
  // The target SoC. Unset: SoC-dependent features get a warning naming the
  // SoCs that cannot run them. Set with `series` null (unknown SoC): the
  // caller reported soc-unknown; SoC checks are skipped.
  std::optional<std::string> soc;
  const ProductSeries* series = nullptr;
  const SocCatalog* socs = &soc_catalog();
  const LayerTypeTable* layer_types = &layer_type_table();
};

struct RuleCode {
  const char* code;
  Severity severity;  // the usual severity (SoC rules are warnings without a SoC)
  const char* help;   // one line, for SARIF rule descriptions and docs
};
// Every code the AMCT rules (and check_amct) can produce.
const std::vector<RuleCode>& amct_rule_codes();

std::vector<Diagnostic> check_rules(const AmctConfig& config, const RuleContext& context);
// check_rules(), and the config is emptied (freed) beside the last step: a
// 100,000-entry config holds 45 MB of entries, freed on one thread otherwise.
std::vector<Diagnostic> check_rules_and_release(AmctConfig&& config, const RuleContext& context);

// The verdicts about one override entry that depend on nothing but the
// entry and the context, by rule, so that an editor re-checks only the
// entries an edit touched; whatever looks across entries (duplicates, the
// features in use, the SoC summary, empty config) is judged by check_rules.
struct EntryRuleDiagnostics {
  std::vector<Diagnostic> blocks;        // clip-range, missing-prune-algorithm, prune-ratio-range
  std::vector<Diagnostic> api;           // api-prune-content
  std::vector<Diagnostic> layer_type;    // unsupported-layer-type of a type entry with blocks
  std::vector<Diagnostic> channel_wise;  // channel-wise-linear
  std::vector<Diagnostic> dtypes;        // int16-unsupported, dtype-pair
  // Bytes every range above has yet to move by (modular: a "negative"
  // shift wraps). An edit near the top of a large config moves ~10,000
  // entries' verdicts: shift() only adds here, and append_to() applies it
  // to the copies it makes.
  uint32_t pending_shift = 0;
  void shift(uint32_t delta) { pending_shift += delta; }
  // Appends copies of the diagnostics of `list` (one of the lists above) to
  // `out`, their ranges moved by pending_shift.
  void append_to(const std::vector<Diagnostic> EntryRuleDiagnostics::*list, std::vector<Diagnostic>& out) const;
};
EntryRuleDiagnostics check_entry_rules(const OverrideEntry& entry, const RuleContext& context);

// check_rules() with the entries' own verdicts given: entry_rules[i] is
// check_entry_rules() of name_overrides[i], then of the type_overrides.
// Equals check_rules(config, context).
std::vector<Diagnostic> check_rules(const AmctConfig& config, const RuleContext& context,
                                    const std::vector<EntryRuleDiagnostics>& entry_rules);
// The same with the verdicts of the name and the type overrides apart.
std::vector<Diagnostic> check_rules(const AmctConfig& config, const RuleContext& context,
                                    const std::vector<EntryRuleDiagnostics>& name_entry_rules,
                                    const std::vector<EntryRuleDiagnostics>& type_entry_rules);

}  // namespace amct
