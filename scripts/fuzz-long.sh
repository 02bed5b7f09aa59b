#!/usr/bin/env bash
# A long run of one libFuzzer target (built by scripts/fuzz.sh in build-fuzz/),
# measured in CPU time: the target runs at nice 19 until it has used
# CPU_SECONDS of CPU (user + sys) or WALL_SECONDS have passed, then gets
# SIGINT (libFuzzer prints its final stats). Prints CPU seconds, executions,
# coverage, corpus size and findings; /usr/bin/time -v's report is kept in
# build-fuzz/long-TARGET.time. Exit status 1 when the target found something.
#   scripts/fuzz-long.sh TARGET [CPU_SECONDS=600] [WALL_SECONDS=7200]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=$1 budget=${2:-600} wall=${3:-7200}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
name=${target#fuzz_}
declare -A dictionary=([fuzz_document]=textproto [fuzz_formatting]=textproto [fuzz_jsonrpc]=jsonrpc [fuzz_weights]=weights)
corpus=$BUILD_DIR/corpus/$name findings=$BUILD_DIR/findings/$name
mkdir -p "$corpus" "$findings"
log=$BUILD_DIR/long-$target.log
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  /usr/bin/time -v -o "$BUILD_DIR/long-$target.time" nice -n 19 "$BUILD_DIR/fuzz/$target" "$corpus" "fuzz/corpus/$name" \
  -dict="fuzz/${dictionary[$target]}.dict" -max_total_time="$wall" -timeout=25 -rss_limit_mb=2048 -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1 &
time_pid=$!
sleep 2
fuzzer_pid=$(pgrep -P "$time_pid" | head -1)
ticks=$(getconf CLK_TCK)
while [[ -n $fuzzer_pid ]] && kill -0 "$fuzzer_pid" 2>/dev/null; do
  read -r -a stat <"/proc/$fuzzer_pid/stat" || break
  if (((stat[13] + stat[14]) / ticks >= budget)); then
    kill -INT "$fuzzer_pid"
    break
  fi
  sleep 10
done
wait "$time_pid"
user=$(grep -o 'User time (seconds): [0-9.]*' "$BUILD_DIR/long-$target.time" | grep -o '[0-9.]*$')
sys=$(grep -o 'System time (seconds): [0-9.]*' "$BUILD_DIR/long-$target.time" | grep -o '[0-9.]*$')
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
found=$(ls "$findings" | wc -l)
echo "$target: $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') CPU s, $execs executions, cov $cov, corpus $(ls "$corpus" | wc -l) files, $found findings"
((found == 0))
