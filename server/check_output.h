#pragma once
// Output formats of `amct-lsp --check`: text (file:line:col: severity: message
// [code]), JSON (the contract in issue 2/3) and SARIF 2.1.0 (code scanning).
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "server/check_runner.h"

namespace amct::server {

// `path:line:col: severity: message [code]`, then one
// `path:line:col: note: message` line per related location.
void write_text_report(std::ostream& out, const std::vector<FileReport>& reports);
// The same as one string.
std::string text_report(const std::vector<FileReport>& reports);
// The same in pieces to be written one after the other (what --check
// prints): a big file's two halves are formatted on two threads, and
// joining them would copy megabytes.
std::vector<std::string> text_report_parts(const std::vector<FileReport>& reports);

// `{"files":[{"path","schema","diagnostics":[...]}],"summary":{...}}`.
// Files that could not be read are left out (their error goes to stderr).
std::string json_report(const std::vector<FileReport>& reports);

struct SarifOptions {
  std::string tool_version;       // AMCT_LSP_VERSION
  std::string working_directory;  // artifact URIs are relative to it
};

// One SARIF 2.1.0 run: a rule per known diagnostic code (data/diagnostic_codes.tsv)
// plus any other code that occurs; results with 1-based regions whose columns
// count Unicode code points (run.columnKind "unicodeCodePoints").
std::string sarif_report(const std::vector<FileReport>& reports, const SarifOptions& options);

// `path` (absolute, or relative to `working_directory`) as a URI reference
// relative to `working_directory` (percent-encoded),
// or a file:// URI when the file lies outside it.
std::string artifact_uri(const std::string& path, const std::string& working_directory);

// `text` safe for a terminal: control characters (except tab) and bytes that
// are not UTF-8 become `\xHH` (a message may quote bytes of a binary file).
std::string printable(std::string_view text);

// The one-line summary printed on stderr after text output.
std::string summary_line(const CheckSummary& summary);

}  // namespace amct::server
