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

}  // namespace amct
