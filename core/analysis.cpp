#include "core/analysis.h"

#include <algorithm>
#include <functional>

#include "core/amct/amct_checks.h"
#include "core/model/binder.h"
#include "core/schema/binding.h"

namespace amct {

schema::BindingOptions binding_options_of(const AnalysisOptions& options) {
  schema::BindingOptions binding;
  binding.path = options.path;
  binding.workspace_root = options.workspace_root;
  binding.import_roots = options.import_roots;
  binding.proto_file = options.proto_file;
  binding.message_name = options.message_name;
  return binding;
}

namespace {

// How analyze() gets the bound model: bound afresh, or incrementally.
using BindModel = std::function<std::shared_ptr<const model::BoundDocument>(const google::protobuf::Descriptor*)>;

Analysis analyze_with(const syntax::Document& document, const AnalysisOptions& options, const BindModel& bind_model) {
  Analysis analysis;
  analysis.diagnostics = document.syntax_diagnostics();

  schema::SchemaBinding binding = schema::bind_schema(document, binding_options_of(options));
  analysis.diagnostics.insert(analysis.diagnostics.end(), binding.diagnostics.begin(), binding.diagnostics.end());
  if (binding.schema) {
    analysis.schema_description = binding.schema->description;
    std::shared_ptr<const model::BoundDocument> bound_model = bind_model(binding.schema->root);
    const model::BoundDocument& bound = *bound_model;
    std::vector<Diagnostic> amct_diagnostics;
    if (binding.schema->is_amct) amct_diagnostics = check_amct(document, bound, AmctCheckOptions{options.soc, options.api});
    // An AMCT rule that names the same mistake as the schema (a missing
    // clip_min is both `missing-required` and `clip-range`) says it better:
    // keep one diagnostic per place.
    for (const Diagnostic& diagnostic : bound.diagnostics) {
      const bool covered = diagnostic.code == "missing-required" &&
                           std::any_of(amct_diagnostics.begin(), amct_diagnostics.end(), [&](const Diagnostic& d) {
                             return d.severity == Severity::Error && d.range.start <= diagnostic.range.start &&
                                    diagnostic.range.end <= d.range.end + 1 && d.range.start + 1 >= diagnostic.range.start;
                           });
      if (!covered) analysis.diagnostics.push_back(diagnostic);
    }
    // With syntax errors the content is partial: "the config is empty" would
    // only repeat them.
    const bool broken = std::any_of(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                                    [](const Diagnostic& d) { return d.code == "syntax-error"; });
    for (Diagnostic& diagnostic : amct_diagnostics)
      if (!(broken && diagnostic.code == "empty-config")) analysis.diagnostics.push_back(std::move(diagnostic));
    analysis.schema = std::move(binding.schema);
    analysis.bound = std::move(bound_model);
  }

  std::stable_sort(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
  return analysis;
}

}  // namespace

Analysis analyze(const syntax::Document& document, const AnalysisOptions& options) {
  return analyze_with(document, options, [&](const google::protobuf::Descriptor* root_type) {
    return std::make_shared<const model::BoundDocument>(model::bind(document, root_type));
  });
}

Analysis IncrementalAnalyzer::analyze(const syntax::Document& document, const AnalysisOptions& options) {
  return analyze_with(document, options, [&](const google::protobuf::Descriptor* root_type) {
    return binder_.bind(document, root_type);
  });
}

}  // namespace amct
