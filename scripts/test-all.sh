#!/usr/bin/env bash
# Every test suite of the project, in order; stops at the first failure.
#   1. the C++ tests (Catch2 via CTest) in BUILD_DIR;
#   2. Neovim as the LSP client (end to end);
#   3. the whole C++ suite again under ASan + UBSan (build-asan/);
#   4. each libFuzzer target for a short smoke run (build-fuzz/, clang).
# AMCT_SKIP_SANITIZERS=1 skips 3 and 4 (a quick local run);
# AMCT_FUZZ_SECONDS sets the smoke run per target (default 20).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${1:-build}
jobs=$(nproc)
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
section() { echo "== $1 ($(date +%T))"; }

section "C++ tests (Catch2 via CTest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$jobs"

section "Neovim as the LSP client (end-to-end)"
tests/neovim/run.sh "$BUILD_DIR/amct-lsp"

if [[ ${AMCT_SKIP_SANITIZERS:-0} == 1 ]]; then
  echo "== sanitizer build and fuzz smoke runs skipped (AMCT_SKIP_SANITIZERS=1)"
  exit 0
fi

section "C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMCT_SANITIZE=ON -DAMCT_BUILD_BENCH=OFF \
  "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900

section "fuzz targets, ${AMCT_FUZZ_SECONDS:-20} s each (build-fuzz)"
scripts/fuzz.sh "${AMCT_FUZZ_SECONDS:-20}"
section "done"
