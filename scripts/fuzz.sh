#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, build-fuzz/) and runs
# each for SECONDS (default 60), one after another (one job: the machine's
# cores are shared). Seeds: fuzz/corpus/<target>/; new inputs go to
# build-fuzz/corpus/<target>/, findings to build-fuzz/findings/<target>/.
# AMCT_FUZZ_SEED=N fixes libFuzzer's seed (CI: the same mutations every run).
# Exit status 1 when a target found a crash, leak, hang or broken invariant.
#   scripts/fuzz.sh [SECONDS] [TARGET...]    e.g. scripts/fuzz.sh 600 fuzz_formatting
# Long runs measured in CPU time (issue 7: 10 CPU-minutes per target): scripts/fuzz-long.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_document fuzz_formatting fuzz_jsonrpc fuzz_weights)
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

source scripts/compiler-cache.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DAMCT_FUZZ=ON -DAMCT_BUILD_TESTS=OFF -DAMCT_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j"${FUZZ_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}"

declare -A dictionary=([fuzz_document]=textproto [fuzz_formatting]=textproto [fuzz_jsonrpc]=jsonrpc [fuzz_weights]=weights)
status=0
for target in "${targets[@]}"; do
  name=${target#fuzz_}
  corpus=$BUILD_DIR/corpus/$name
  findings=$BUILD_DIR/findings/$name
  mkdir -p "$corpus" "$findings"
  log=$BUILD_DIR/$target.log
  echo "== $target: ${seconds}s (log $log)"
  start=$(date +%s)
  if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
     UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
     "$BUILD_DIR/fuzz/$target" "$corpus" "fuzz/corpus/$name" \
       -dict="fuzz/${dictionary[$target]}.dict" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 \
       -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings/" ${AMCT_FUZZ_SEED:+-seed="$AMCT_FUZZ_SEED"} \
       >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  end=$(date +%s)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  echo "   $result: $((end - start)) s, $execs executions, coverage $cov edges, corpus $(ls "$corpus" | wc -l) files"
  if [[ $result == FAILED ]]; then
    grep -m1 -E 'ERROR|SUMMARY|invariant|deadly signal' "$log" || true
    ls "$findings"
  fi
done
exit $status
