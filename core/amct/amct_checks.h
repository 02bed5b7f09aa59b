#pragma once
// The single entry point of the AMCT rules for analyze(): reads the `# soc:`
// and `# amct-api:` headers, resolves the SoC in the capability table, extracts
// the AmctConfig from the bound model and runs every rule (core/amct/rules.h).
#include <cstddef>
#include <memory>
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
// The name a header key stands for in the AMCT headers: "# soc:" and
// "#soc :" -> "soc" (`#`, `:` and blanks dropped).
std::string amct_header_name(std::string_view key);
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

// check_amct() for successive versions of one document: the override
// entries of root fields the binder carried over unchanged keep their
// extracted form and their own verdicts (check_entry_rules), shifted; only
// the rest is extracted and checked again, and the rules across entries run
// over the whole config. The result equals check_amct() (tests/core/
// incremental_analysis_test.cpp). Not thread-safe.
class IncrementalAmctChecker {
 public:
  IncrementalAmctChecker();
  ~IncrementalAmctChecker();
  IncrementalAmctChecker(const IncrementalAmctChecker&) = delete;
  IncrementalAmctChecker& operator=(const IncrementalAmctChecker&) = delete;

  // `reused_from`: for each root field of `bound`, the index of the root
  // field of the model given to the previous call that it equals (shifted),
  // or SIZE_MAX (model::IncrementalBinder::last_reused_fields()); null when
  // `bound` does not follow the previous call's model.
  std::vector<Diagnostic> check(const AmctHeaders& headers, const model::BoundDocument& bound,
                                const AmctCheckOptions& options, const std::vector<size_t>* reused_from);
  // Forgets the previous call (its model is not the one the next call follows).
  void forget();
  // Override entries extracted and checked afresh by the last call.
  size_t last_rechecked_entries() const;
  // Whether the last call updated the previous entries where they were
  // (an edit's usual shape) rather than assembling them anew.
  bool last_updated_in_place() const;

 private:
  struct State;
  static bool update_in_place(State& old, State& next, const model::BoundDocument& bound,
                              const std::vector<size_t>& reused_from, const RuleContext& context);
  std::unique_ptr<State> state_;
};

}  // namespace amct
