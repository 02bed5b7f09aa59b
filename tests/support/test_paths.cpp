#include "support/test_paths.h"

namespace amct::test {
const char* source_dir() { return AMCT_TEST_SOURCE_DIR_VALUE; }
const char* lsp_binary() { return AMCT_TEST_LSP_BINARY_VALUE; }
}  // namespace amct::test
