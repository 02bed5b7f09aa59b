#pragma once
// The single entry point of the AMCT rules for analyze(): reads the `# soc:`
// and `# amct-api:` headers, resolves the SoC in the capability table, extracts
// the AmctConfig from the bound model and runs every rule (core/amct/rules.h).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/amct/config.h"
#include "core/amct/rules.h"
#include "core/model/binder.h"
#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct {

struct AmctCheckOptions {
  std::optional<std::string> soc;  // --soc / amct.socVersion; a `# soc:` header overrides it
  std::optional<std::string> api;  // --api quant|prune|compressed; `# amct-api:` overrides it
};

// The `# soc:` / `# amct-api:` headers of a document (the last of each kind).
struct AmctHeaders {
  std::optional<Located<std::string>> soc;  // range: the header value (or key if no value)
  std::optional<Located<std::string>> api;
};
AmctHeaders read_amct_headers(const syntax::Document& document);
// The same from a header comment's key text (`# soc:`) and value text (or
// nothing); for parsers without a tree. Call in source order: the last wins.
void add_amct_header(AmctHeaders& headers, std::string_view key_text, ByteRange key_range,
                     std::optional<std::string_view> value_text, ByteRange value_range);

// The rule context after headers and options: API mode, SoC and its series.
// Problems with the SoC or API names become diagnostics (soc-unknown,
// api-unknown), on the header value or, for options, at the start of the file.
struct ResolvedAmctOptions {
  RuleContext context;
  std::vector<Diagnostic> diagnostics;
};
ResolvedAmctOptions resolve_amct_options(const syntax::Document& document,
                                         const AmctCheckOptions& options);
ResolvedAmctOptions resolve_amct_options(const AmctHeaders& headers, const AmctCheckOptions& options);

// True if the bound root is an AMCTRetrainConfig (the built-in schema).
bool is_amct_config(const model::BoundDocument& bound);

// Every problem of a config bound to AMCTRetrainConfig, for the commands
// that go on with a config anyway (--resolve, --estimate): syntax, schema,
// then AMCT diagnostics.
std::vector<Diagnostic> amct_config_problems(const syntax::Document& document, const model::BoundDocument& bound,
                                             const AmctCheckOptions& options);

// All AMCT diagnostics of a document bound to AMCTRetrainConfig; empty for
// any other schema.
std::vector<Diagnostic> check_amct(const syntax::Document& document,
                                   const model::BoundDocument& bound,
                                   const AmctCheckOptions& options);
// The same with the headers already read (no tree needed).
std::vector<Diagnostic> check_amct(const AmctHeaders& headers, const model::BoundDocument& bound,
                                   const AmctCheckOptions& options);

}  // namespace amct
