#!/usr/bin/env bash
# Every test suite of the project, in order; stops at the first failure.
# AMCT_EDITOR_TESTS=0 leaves out the VS Code and code-server parts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${1:-build}
binary=$(realpath "$BUILD_DIR/amct-lsp")
echo "== C++ tests (Catch2 via CTest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"

echo "== Neovim as the LSP client, bare and with the neovim/ plugin (end-to-end)"
tests/neovim/run.sh "$binary"

if [[ ${AMCT_EDITOR_TESTS:-1} != 0 ]]; then
  echo "== The neovim/ plugin on a current Neovim too (Debian testing's package, private cache)"
  NVIM=tests/neovim/nvim-debian-testing.sh tests/neovim/run.sh "$binary"
  echo "== VS Code extension: type check, unit tests, TextMate grammar against the tree-sitter corpus"
  (cd vscode-extension && npm run --silent typecheck && npm run --silent test:unit && npm run --silent test:grammar)
  echo "== VS Code extension: the .vsix (linux-x64, server inside)"
  (cd vscode-extension && AMCT_LSP_BINARY=$binary npm run --silent package >/dev/null && npm run --silent test:vsix)
  echo "== VS Code (code-server 4.99 / Code 1.99) in Chromium: the .vsix end-to-end"
  (cd vscode-extension && npm run --silent test:e2e)
fi
