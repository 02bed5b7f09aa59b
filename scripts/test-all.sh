#!/usr/bin/env bash
# Every test suite of the project, in order; stops at the first failure:
#   1. the C++ tests (Catch2 via CTest) in BUILD_DIR;
#   2. Neovim as the LSP client (end to end), bare and with the neovim/ plugin;
#   3. the editors: the plugin on a current Neovim, the VS Code extension's type
#      check, unit, grammar and .vsix tests, and VS Code (code-server) end to end;
#   4. the whole C++ suite again under ASan + UBSan (build-asan/);
#   5. each libFuzzer target for a short fixed-seed smoke run (build-fuzz/,
#      clang), AMCT_FUZZ_SECONDS each (default 20).
# AMCT_EDITOR_TESTS=0 skips 3, AMCT_SANITIZERS=0 skips 4, AMCT_FUZZ_SECONDS=0
# skips 5 (for a quick local run; CI runs everything).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${1:-build}
binary=$(realpath "$BUILD_DIR/amct-lsp")
jobs=$(nproc)
source scripts/compiler-cache.sh
section() { echo "== $1 ($(date +%T))"; }

section "C++ tests (Catch2 via CTest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$jobs"

section "Neovim as the LSP client, bare and with the neovim/ plugin (end-to-end)"
tests/neovim/run.sh "$binary"

if [[ ${AMCT_EDITOR_TESTS:-1} != 0 ]]; then
  section "The neovim/ plugin on a current Neovim too (Debian testing's package, private cache)"
  NVIM=tests/neovim/nvim-debian-testing.sh tests/neovim/run.sh "$binary"
  section "VS Code extension: type check, unit tests, TextMate grammar against the tree-sitter corpus"
  (cd vscode-extension && npm run --silent typecheck && npm run --silent test:unit && npm run --silent test:grammar)
  section "VS Code extension: the .vsix (linux-x64, server inside)"
  (cd vscode-extension && AMCT_LSP_BINARY=$binary npm run --silent package >/dev/null && npm run --silent test:vsix)
  section "VS Code (code-server 4.99 / Code 1.99) in Chromium: the .vsix end-to-end"
  (cd vscode-extension && npm run --silent test:e2e)
fi

if [[ ${AMCT_SANITIZERS:-1} != 0 ]]; then
  section "C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMCT_SANITIZE=ON -DAMCT_BUILD_BENCH=OFF \
    "${launcher[@]}" >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900
fi

fuzz_seconds=${AMCT_FUZZ_SECONDS:-20}
if [[ $fuzz_seconds -gt 0 ]]; then
  section "fuzz targets, ${fuzz_seconds} s each (build-fuzz)"
  AMCT_FUZZ_SEED=${AMCT_FUZZ_SEED:-1} scripts/fuzz.sh "$fuzz_seconds"
fi
section "done"
