#include "server/cli.h"

#include <cstdio>
#include <cstring>

namespace amct::server {

int run_main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("amct-lsp %s\n", AMCT_LSP_VERSION);
    return 0;
  }
  return 2;
}

}  // namespace amct::server
