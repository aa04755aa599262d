#!/usr/bin/env bash
# bench/runtimes.sh: cold and warm starts of the language kinds (nodejs:20, python:3, cpp).
#
# What it measures, on loopback, through the OpenWhisk REST API with blocking invokes
# (records written, as always):
#   1. the bare interpreter's own start in the same run: `node -e 0` and `python3 -c 0`,
#      median of BARE_SAMPLES runs (the baseline a cold start is compared with);
#   2. cold starts per kind, from request to result with a new process: before each
#      sample the action is updated (a new version is a new process pool), then one
#      blocking invoke is timed; median over COLD_SAMPLES. Twice: on a server with one
#      prewarmed process per interpreted kind (`--stem-cells nodejs:20=1,python:3=1`,
#      with a pause of STEM_PAUSE seconds between samples so the taken stem cell is
#      replaced) and on one without (`--stem-cells nodejs:20=0,python:3=0`). cpp has no
#      interpreter to prewarm: its cold start is the compiled program's;
#   3. warm invokes per kind: p50 at 1 client with wrk for DURATION.
# Targets (issue G): cold with prewarm <= 1.2x the bare start; warm p50 <= 1 ms.
#
# How to run it (needs wrk, curl, python3, node and a built tree):
#   bench/runtimes.sh
#   COLD_SAMPLES=10 DURATION=3s bench/runtimes.sh --json /tmp/runtimes.json
#
# Knobs (environment):
#   DURATION=5s         each warm wrk run
#   COLD_SAMPLES=20     cold starts timed per kind and server
#   BARE_SAMPLES=20     bare interpreter starts timed
#   STEM_PAUSE=0.3      seconds between prewarmed cold samples
#   WISP_BIN=...        the wisp binary (default: ../build/wisp relative to this script)
#
# Run it on an otherwise idle machine: the load generator and the server share the cores.
set -euo pipefail
DURATION=${DURATION:-5s}
COLD_SAMPLES=${COLD_SAMPLES:-20}
BARE_SAMPLES=${BARE_SAMPLES:-20}
STEM_PAUSE=${STEM_PAUSE:-0.3}
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"

for tool in wrk curl python3 node base64; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"

# OpenWhisk standalone's well-known guest key, which `wisp serve --dev` uses.
AUTH=23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP
BASIC=$(printf '%s' "$AUTH" | base64 -w0)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-runtimes.XXXXXX")
wisp_pid=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $wisp_pid ]] && stop_pid "$wisp_pid"
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

busy=$(cpu_busy_percent)

# The actions: the same no-op in each kind.
printf 'function main(args) { return {ok: true}; }\n' >"$tmp/noop.js"
printf 'def main(args):\n    return {"ok": True}\n' >"$tmp/noop.py"
cat >"$tmp/noop.cpp" <<'EOF'
#include "whisk/sdk/action.h"
wisp::Result<wisp::Json> Main(const wisp::Json&) { return wisp::Json{{"ok", true}}; }
int main() { return wisp::whisk::sdk::Serve(Main); }
EOF
for kind in nodejs:20:js python:3:py cpp:cpp; do
    python3 - "${kind%:*}" "$tmp/noop.${kind##*:}" >"$tmp/${kind##*:}.json" <<'EOF'
import json, sys
print(json.dumps({"exec": {"kind": sys.argv[1], "code": open(sys.argv[2]).read()}}))
EOF
done

# start_wisp STEM_CELLS: a fresh `wisp serve --dev`; sets wisp_pid and api.
start_wisp() {
    [[ -n $wisp_pid ]] && stop_pid "$wisp_pid"
    rm -rf "$tmp/data"
    "$WISP_BIN" serve --dev --data-dir "$tmp/data" --api-port 0 --couch-port 0 --log-level warn \
        --stem-cells "$1" --invocations-per-minute 100000000 --concurrent-invocations 100000 \
        >"$tmp/wisp.out" 2>&1 &
    wisp_pid=$!
    wait_for_wisp_api "$wisp_pid" "$tmp/wisp.out"
}

# cold KIND_FILE PAUSE: "P50_MS INIT_P50_MS" over COLD_SAMPLES new versions of one action.
cold() { cold_starts "$1" "$2" '{}' | cut -d" " -f1,2; }

# warm KIND_FILE: p50 (ms) of blocking invokes at 1 client, after one invoke warmed it.
warm() {
    curl -fsS -o /dev/null -u "$AUTH" -H 'Content-Type: application/json' -X PUT \
        "$api/api/v1/namespaces/_/actions/warm?overwrite=true" --data-binary "@$1" || die "cannot create $1"
    curl -fsS -o /dev/null -u "$AUTH" -X POST "$api/api/v1/namespaces/_/actions/warm?blocking=true" ||
        die "cannot invoke $1"
    cat >"$tmp/invoke.lua" <<EOF
wrk.method = "POST"
wrk.body = '{}'
wrk.headers["Authorization"] = "Basic $BASIC"
wrk.headers["Content-Type"] = "application/json"
EOF
    local out
    out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$tmp/invoke.lua" \
        "$api/api/v1/namespaces/_/actions/warm?blocking=true&result=true")
    to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")"
}

echo "runtimes.sh: bare interpreter starts..." >&2
read -r bare_node bare_python < <(python3 - "$BARE_SAMPLES" <<'EOF'
import statistics, subprocess, sys, time
def median_start(argv, samples):
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        subprocess.run(argv, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
n = int(sys.argv[1])
print(f"{median_start(['node', '-e', '0'], n):.2f} {median_start(['python3', '-c', '0'], n):.2f}")
EOF
)

echo "runtimes.sh: cold starts with prewarmed processes..." >&2
start_wisp "nodejs:20=1,python:3=1"
read -r node_cold_stem node_init_stem < <(cold "$tmp/js.json" "$STEM_PAUSE")
read -r python_cold_stem python_init_stem < <(cold "$tmp/py.json" "$STEM_PAUSE")
echo "runtimes.sh: warm invokes..." >&2
node_warm=$(warm "$tmp/js.json")
python_warm=$(warm "$tmp/py.json")
cpp_warm=$(warm "$tmp/cpp.json")
echo "runtimes.sh: cold starts without prewarm..." >&2
start_wisp "nodejs:20=0,python:3=0"
read -r node_cold_bare node_init_bare < <(cold "$tmp/js.json" 0)
read -r python_cold_bare python_init_bare < <(cold "$tmp/py.json" 0)
# The cpp source compiles once (on the first PUT); later versions reuse the build.
read -r cpp_cold cpp_init < <(cold "$tmp/cpp.json" 0)

verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == "<=") ? (a <= b) : (a >= b); print ok ? "yes" : "NO" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
node_ratio=$(ratio "$node_cold_stem" "$bare_node")
python_ratio=$(ratio "$python_cold_stem" "$bare_python")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); CPUs ${busy}% busy before the runs"
(( busy <= 10 )) || echo "warning: the machine was busy; the figures are not a verdict"
echo "wisp: $("$WISP_BIN" --version); node $(node --version); $(python3 --version); $COLD_SAMPLES cold samples; warm runs of $DURATION"
printf '%-44s %10s %10s %6s\n' case figure target met
printf '%-44s %10s %10s %6s\n' "bare start: node -e 0 (ms)" "$bare_node" - -
printf '%-44s %10s %10s %6s\n' "bare start: python3 -c 0 (ms)" "$bare_python" - -
printf '%-44s %10s %10s %6s\n' "nodejs:20 cold, prewarmed p50 (ms)" "$node_cold_stem" - -
printf '%-44s %10s %10s %6s\n' "  / bare node start" "$node_ratio" "<= 1.2" "$(verdict "$node_ratio" '<=' 1.2)"
printf '%-44s %10s %10s %6s\n' "nodejs:20 cold, no prewarm p50 (ms)" "$node_cold_bare" - -
printf '%-44s %10s %10s %6s\n' "python:3 cold, prewarmed p50 (ms)" "$python_cold_stem" - -
printf '%-44s %10s %10s %6s\n' "  / bare python start" "$python_ratio" "<= 1.2" "$(verdict "$python_ratio" '<=' 1.2)"
printf '%-44s %10s %10s %6s\n' "python:3 cold, no prewarm p50 (ms)" "$python_cold_bare" - -
printf '%-44s %10s %10s %6s\n' "cpp cold p50 (ms, compiled once)" "$cpp_cold" - -
printf '%-44s %10s %10s %6s\n' "initTime p50 node/python/cpp, prewarmed (ms)" "$node_init_stem/$python_init_stem/-" - -
printf '%-44s %10s %10s %6s\n' "initTime p50 node/python/cpp, no prewarm (ms)" "$node_init_bare/$python_init_bare/$cpp_init" - -
printf '%-44s %10s %10s %6s\n' "nodejs:20 warm p50, 1 client (ms)" "$node_warm" "<= 1" "$(verdict "$node_warm" '<=' 1)"
printf '%-44s %10s %10s %6s\n' "python:3 warm p50, 1 client (ms)" "$python_warm" "<= 1" "$(verdict "$python_warm" '<=' 1)"
printf '%-44s %10s %10s %6s\n' "cpp warm p50, 1 client (ms)" "$cpp_warm" "<= 1" "$(verdict "$cpp_warm" '<=' 1)"

if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOF
{"bare_node_ms": $bare_node, "bare_python_ms": $bare_python,
 "node_cold_prewarmed_ms": $node_cold_stem, "node_cold_ms": $node_cold_bare,
 "python_cold_prewarmed_ms": $python_cold_stem, "python_cold_ms": $python_cold_bare, "cpp_cold_ms": $cpp_cold,
 "node_warm_p50_ms": $node_warm, "python_warm_p50_ms": $python_warm, "cpp_warm_p50_ms": $cpp_warm,
 "busy_percent": $busy}
EOF
    echo "wrote $json_out"
fi
