#pragma once
// Shared helpers of the amct_*_test.cpp files: parse + bind a config with the
// built-in AMCT schema, run the AMCT checks, summarise diagnostics.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/amct/amct_checks.h"
#include "core/amct/config.h"
#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"

namespace amct::test {

struct CheckedConfig {
  syntax::Document document;
  model::BoundDocument bound;
  std::vector<Diagnostic> diagnostics;  // AMCT rules only

  explicit CheckedConfig(std::string text, const AmctCheckOptions& options = {})
      : document(std::move(text)),
        bound(model::bind(document, schema::amct_schema().root)),
        diagnostics(check_amct(document, bound, options)) {}

  AmctConfig config() const { return extract_config(bound.root); }

  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diagnostics) out.push_back(d.code);
    return out;
  }

  // "line:code:severity" for every AMCT diagnostic, 1-based lines.
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diagnostics) {
      out.push_back(std::to_string(document.line_column_at(d.range.start).line) + ":" + d.code +
                    ":" + severity_name(d.severity));
    }
    return out;
  }

  std::string text_of(ByteRange range) const { return std::string(document.text_of(range)); }

  const Diagnostic* find(const std::string& code) const {
    for (const Diagnostic& d : diagnostics) {
      if (d.code == code) return &d;
    }
    return nullptr;
  }
};

inline std::string read_source_file(const std::string& relative_path) {
  std::ifstream in(std::string(AMCT_SOURCE_DIR) + "/" + relative_path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace amct::test
