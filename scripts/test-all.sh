#!/usr/bin/env bash
# Every test suite of the project, in order; stops at the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${1:-build}
echo "== C++ tests (Catch2 via CTest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"

echo "== Neovim as the LSP client (end-to-end)"
tests/neovim/run.sh "$BUILD_DIR/amct-lsp"
