#include "core/analysis.h"

#include <algorithm>

#include "core/schema/binding.h"

namespace amct {

Analysis analyze(const syntax::Document& document, const AnalysisOptions& options) {
  Analysis analysis;
  analysis.diagnostics = document.syntax_diagnostics();

  schema::BindingOptions binding_options;
  binding_options.path = options.path;
  binding_options.workspace_root = options.workspace_root;
  binding_options.import_roots = options.import_roots;
  binding_options.proto_file = options.proto_file;
  binding_options.message_name = options.message_name;
  schema::SchemaBinding binding = schema::bind_schema(document, binding_options);
  analysis.diagnostics.insert(analysis.diagnostics.end(), binding.diagnostics.begin(), binding.diagnostics.end());
  if (binding.schema) {
    analysis.schema_description = binding.schema->description;
    analysis.schema = std::move(binding.schema);
  }

  std::stable_sort(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
  return analysis;
}

}  // namespace amct
