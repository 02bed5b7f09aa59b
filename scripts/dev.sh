#!/usr/bin/env bash
# The README's quick start. Installs what is missing (Debian packages only),
# builds, then:
#   scripts/dev.sh example   checks the bundled example config
#   scripts/dev.sh test      runs the whole test suite (what CI runs)
#   scripts/dev.sh build     only builds
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-build}
BUILD_DIR=${BUILD_DIR:-build}
scripts/install-deps.sh
source scripts/compiler-cache.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
case $mode in
  build) ;;
  example) "$BUILD_DIR"/amct-lsp --check examples/quant.cfg ;;
  test) scripts/test-all.sh "$BUILD_DIR" ;;
  *) echo "usage: scripts/dev.sh [build|example|test]" >&2; exit 2 ;;
esac
