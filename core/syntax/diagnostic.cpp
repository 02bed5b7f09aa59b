#include "core/syntax/diagnostic.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace amct {

SharedText::SharedText(std::string text) {
  if (!text.empty()) text_ = std::make_shared<const std::string>(std::move(text));
}

const std::string& SharedText::no_text() {
  static const std::string none;
  return none;
}

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Information: return "info";
    case Severity::Hint: return "hint";
  }
  return "error";
}

void sort_by_start(std::vector<Diagnostic>& diagnostics) {
  const auto by_start = [](const Diagnostic& a, const Diagnostic& b) { return a.range.start < b.range.start; };
  if (std::is_sorted(diagnostics.begin(), diagnostics.end(), by_start)) return;
  // Sort (start, index) keys, then move each diagnostic once: the index
  // keeps equal starts in their order, as stable_sort would.
  std::vector<std::pair<uint32_t, uint32_t>> keys;
  keys.reserve(diagnostics.size());
  for (size_t i = 0; i < diagnostics.size(); ++i) keys.emplace_back(diagnostics[i].range.start, static_cast<uint32_t>(i));
  std::sort(keys.begin(), keys.end());
  std::vector<Diagnostic> sorted;
  sorted.reserve(diagnostics.size());
  for (const auto& key : keys) sorted.push_back(std::move(diagnostics[key.second]));
  diagnostics = std::move(sorted);
}

}  // namespace amct
