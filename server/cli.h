#pragma once
// The amct-lsp command line (DESIGN.md "Binaries and command line").

namespace amct::server {

// Dispatches to the language server, --check, --resolve, --estimate,
// --version or --help. Returns the process exit status.
int run_main(int argc, char** argv);

}  // namespace amct::server
