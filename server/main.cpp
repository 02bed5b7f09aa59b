#include "server/cli.h"

int main(int argc, char** argv) { return amct::server::run_main(argc, argv); }
