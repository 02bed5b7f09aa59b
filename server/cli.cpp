#include "server/cli.h"

#include <cstdio>
#include <cstring>

#include "server/lsp_server.h"

namespace amct::server {

int run_main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("amct-lsp %s\n", AMCT_LSP_VERSION);
    return 0;
  }
  if (argc == 1 || (argc == 2 && std::strcmp(argv[1], "--stdio") == 0)) return run_stdio_server();
  return 2;
}

}  // namespace amct::server
