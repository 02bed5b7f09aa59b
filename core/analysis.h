#pragma once
// One file's full check: syntax, schema binding, schema diagnostics and the
// AMCT rules. The CLI (--check) and the language server both call this.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/amct/amct_checks.h"
#include "core/model/binder.h"
#include "core/schema/binding.h"
#include "core/schema/schema.h"
#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct {

struct AnalysisOptions {
  std::string path;                        // file path, for schema headers and `.cfg` recognition
  std::string workspace_root;              // "" if none
  std::vector<std::string> import_roots;   // -I DIR / amct.importRoots
  std::optional<std::string> proto_file;   // --proto / schema mapping
  std::optional<std::string> message_name; // --message / schema mapping
  std::optional<std::string> soc;          // --soc / amct.socVersion (a `# soc:` header overrides)
  std::optional<std::string> api;          // --api quant|prune|compressed
};

struct Analysis {
  std::vector<Diagnostic> diagnostics;  // sorted by position
  std::string schema_description;       // e.g. "AMCTRetrainConfig (built-in)", "" if none
  std::optional<schema::Schema> schema; // the schema the document was checked against
  // The bound model (with a schema), kept so editor features of the same
  // version need not bind again.
  std::shared_ptr<const model::BoundDocument> bound;
};

Analysis analyze(const syntax::Document& document, const AnalysisOptions& options);

// The same analysis without a syntax tree, for `--check`: a single-pass
// parser and binder (core/model/fast_binder.h). nullopt when the text is
// outside what that path reproduces exactly (syntax errors, invalid UTF-8,
// extension names, ...): then call analyze() on a Document. When it answers,
// the answer equals analyze()'s (tests/core/fast_binder_test.cpp).
std::optional<Analysis> analyze_without_tree(std::string_view text, const AnalysisOptions& options);

// analyze() for successive versions of one document: binding reuses the
// top-level fields the edits did not touch (model::IncrementalBinder). The
// result equals analyze() of the same version. Not thread-safe: one
// analyzer per document, used by one thread at a time.
class IncrementalAnalyzer {
 public:
  // `diagnostics_ready`, when set, gets the diagnostics as soon as they are
  // final, before the model is (moving the insides of the override blocks
  // after an edit near the top of a large file); it must not look at the
  // model. The result is complete either way.
  using DiagnosticsReady = std::function<void(const std::vector<Diagnostic>&)>;
  Analysis analyze(const syntax::Document& document, const AnalysisOptions& options,
                   const DiagnosticsReady& diagnostics_ready = {});
  // Top-level units bound afresh by the last analyze() (the rest were reused).
  size_t last_rebound_units() const { return binder_.last_rebound_units(); }
  // Override entries extracted and checked afresh by the last analyze().
  size_t last_rechecked_entries() const { return checker_.last_rechecked_entries(); }
  // Whether the last analyze() updated the AMCT checker's entries in place.
  bool last_updated_entries_in_place() const { return checker_.last_updated_in_place(); }
  // Whether the last analyze() kept the previous outline (headers and
  // top-level field names) instead of walking the top level again.
  bool last_reused_outline() const { return reused_outline_; }
  // Whether the last analyze() parsed only the top-level fields around the
  // edit, leaving the document's tree unparsed.
  bool last_parsed_region_only() const { return parsed_region_only_; }
  // The outline of the last analyze()'s document: every top-level header (and
  // those inside top-level error nodes) and the distinct top-level field names.
  const schema::DocumentOutline& last_outline() const { return top_level_.outline; }

 private:
  // What the top-level walks found for the last analyzed text, kept while an
  // edit cannot change it (see keeps_top_level in analysis.cpp).
  struct TopLevel {
    std::shared_ptr<const std::string> text = std::make_shared<const std::string>();  // the text it was read from
    bool valid = false;           // read from a tree without syntax errors
    schema::DocumentOutline outline;
    std::optional<AmctHeaders> amct_headers;  // read when first needed
  };
  const schema::DocumentOutline& outline_of(const syntax::Document& document, bool parsed_cleanly,
                                            const syntax::RegionTree* region, const model::ReparseRegion* edited);
  bool region_keeps_top_level(const syntax::RegionTree& region, std::string_view text) const;

  TopLevel top_level_;
  bool reused_outline_ = false;
  model::IncrementalBinder binder_;
  IncrementalAmctChecker checker_;
  bool checker_follows_binder_ = false;  // the checker saw the binder's previous model
  bool parsed_region_only_ = false;
  bool last_text_clean_ = false;  // the last analyze() bound a text without syntax diagnostics
  uint64_t last_lineage_ = 0;      // syntax::Document::lineage() of the last analyze()
};

// The schema-binding part of the options.
schema::BindingOptions binding_options_of(const AnalysisOptions& options);

}  // namespace amct
