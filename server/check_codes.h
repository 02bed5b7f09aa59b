#pragma once
// The table of diagnostic codes (data/diagnostic_codes.tsv, embedded): every
// stable code with its usual level, a short description and a help text.
// SARIF output lists one rule per code from this table, so a layer that adds
// a code edits the data file, not this code.
#include <string>
#include <string_view>
#include <vector>

namespace amct::server {

struct DiagnosticCodeInfo {
  std::string code;               // "unknown-field"
  std::string level;              // "error", "warning" or "note"
  std::string short_description;  // "Unknown field"
  std::string help;               // a sentence or two on the cause and the fix
};

// Parses the TSV text: `code<TAB>level<TAB>short<TAB>help`, '#' lines and
// blank lines ignored; malformed lines are skipped.
std::vector<DiagnosticCodeInfo> parse_diagnostic_codes(std::string_view tsv);

// The embedded table, parsed once.
const std::vector<DiagnosticCodeInfo>& diagnostic_codes();

// The entry of `code`, or nullptr when the table does not know it.
const DiagnosticCodeInfo* find_diagnostic_code(std::string_view code);

}  // namespace amct::server
