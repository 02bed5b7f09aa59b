#pragma once
// The diagnostics reference page (docs/diagnostics.md): one section per code
// of data/diagnostic_codes.tsv, so a code's documentation is a data edit.
// Diagnostics link to it through LSP's `codeDescription.href`.
#include <string>
#include <string_view>

namespace amct::server {

// The page, rendered from the embedded code table. docs/diagnostics.md in the
// repository is exactly this text (a test keeps them equal).
std::string diagnostics_markdown();

// `base#code` for a code the table knows, "" otherwise (or when base is "").
// Each section's heading is the bare code, so the anchor is the code itself.
std::string diagnostic_docs_href(std::string_view base, std::string_view code);

// The default base when the `amct.diagnosticsDocsUrl` setting is unset: the
// page written under the user cache directory, as a file:// URI, so links
// work offline and match the server's version. "" when there is no cache
// directory.
std::string default_diagnostics_docs_base();

}  // namespace amct::server
