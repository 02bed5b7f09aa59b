#include "core/analysis.h"

#include <algorithm>

namespace amct {

Analysis analyze(const syntax::Document& document, const AnalysisOptions& options) {
  (void)options;
  Analysis analysis;
  analysis.diagnostics = document.syntax_diagnostics();
  std::stable_sort(analysis.diagnostics.begin(), analysis.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; });
  return analysis;
}

}  // namespace amct
