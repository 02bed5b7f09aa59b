// Force-included into every test translation unit (see CMakeLists.txt).
// The checkout and binary paths are compiled into test_paths.cpp alone, so
// the other test objects do not depend on where the repository was cloned
// and a compiler cache can reuse them across clones (CI builds a fresh one).
#pragma once

namespace amct::test {
const char* source_dir();
const char* lsp_binary();
}  // namespace amct::test

#define AMCT_SOURCE_DIR (::amct::test::source_dir())
#define AMCT_LSP_BINARY (::amct::test::lsp_binary())
