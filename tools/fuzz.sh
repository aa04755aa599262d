#!/usr/bin/env bash
# Builds the fuzz targets with clang-14 and libFuzzer (ASan and UBSan on) in
# build-fuzz/, then runs each for SECONDS (default 60) on its corpus, one at
# a time under nice, and prints one summary line per target and the total.
# A crash leaves crash-* in build-fuzz/findings/NAME; turn it into a corpus
# file under fuzz/corpus/NAME so the normal test suite replays it forever
# (docs/security.md, "Fuzzing").
#
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
#        FUZZ_BUILD=0 tools/fuzz.sh ...   runs the binaries already built
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DWISP_FUZZ=ON
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(sed -n 's/^wisp_fuzzer(\([a-z_]*\).*/\1/p' fuzz/CMakeLists.txt))
fi
if [ "${FUZZ_BUILD:-1}" != 0 ]; then
  nice cmake --build build-fuzz --target "${targets[@]/%/_fuzzer}"
fi

summary=()
total_cpu=0
total_crashes=0
for t in "${targets[@]}"; do
  findings="build-fuzz/findings/$t"
  mkdir -p "$findings" "build-fuzz/corpus/$t"
  log="$findings/last-run.log"
  before=$(find "$findings" -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
  echo "fuzzing $t for ${seconds}s (log: $log)"
  # The CPU seconds of the run (user + system, children included).
  start_cpu=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  set +e
  nice "build-fuzz/fuzz/${t}_fuzzer" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$findings/" "build-fuzz/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  end_cpu=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  cpu=$(awk -v a="$start_cpu" -v b="$end_cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz / 60}')
  after=$(find "$findings" -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
  crashes=$((after - before))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "build-fuzz/corpus/$t" | wc -l)
  line=$(printf '%-14s runs=%-9s execs/s=%-6s cov=%-6s ft=%-6s corpus=%-5s crashes=%-2s cpu_min=%-6s exit=%s' \
    "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$crashes" "$cpu" "$rc")
  echo "$line"
  summary+=("$line")
  total_cpu=$(awk -v a="$total_cpu" -v b="$cpu" 'BEGIN {printf "%.2f", a + b}')
  total_crashes=$((total_crashes + crashes))
done
echo
echo "summary (${seconds}s per target):"
printf '%s\n' "${summary[@]}"
echo "total: ${#targets[@]} targets, ${total_cpu} CPU-minutes fuzzed, ${total_crashes} crashes (build-fuzz/findings/)"
[ "$total_crashes" -eq 0 ]
