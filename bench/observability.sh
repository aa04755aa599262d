#!/usr/bin/env bash
# bench/observability.sh: what logging, tracing and metrics cost an invoke (issue H).
#
# Two `wisp serve --dev` processes from the same binary, measured in the same run:
#   on:  metrics counted (`--metrics on`, the default), the alert rules evaluated,
#        JSON log lines at info to a file (`--log-level info --log-file ...`);
#   off: `--metrics off --log-level off`.
# Trace ids and parent links are part of every activation record in both, as
# records are always written. For each, in alternating rounds (on, off, on,
# off...) so that drifting machine load hits both alike:
#   - blocking invokes/s of a built-in no-op at CLIENTS connections (wrk);
#   - the p50 latency of the same at 1 connection.
# It reports the medians over the rounds and the overhead (1 - on/off for the
# rate, on/off - 1 for the latency). Target: under 5 %.
#
# How to run it (needs wrk, curl and a built tree):
#   bench/observability.sh
#   ROUNDS=5 DURATION=5s bench/observability.sh --json /tmp/obs.json
#
# Knobs (environment):
#   DURATION=5s   each wrk run
#   CLIENTS=16    connections for the rate
#   ROUNDS=3      alternating rounds per configuration
#   WISP_BIN=...  the wisp binary (default: ../build/wisp relative to this script)
#
# Run it on an otherwise idle machine: wrk and the servers share the cores.
set -euo pipefail
DURATION=${DURATION:-5s}
CLIENTS=${CLIENTS:-16}
ROUNDS=${ROUNDS:-3}
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"

for tool in wrk curl python3 base64; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"

# OpenWhisk standalone's well-known guest key, which `wisp serve --dev` uses.
AUTH=23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-obs.XXXXXX")
pids=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_wisp NAME FLAGS...: starts a server, sets url_NAME to its no-op's invoke URL.
start_wisp() {
    local name=$1
    shift
    mkdir -p "$tmp/$name"
    "$WISP_BIN" serve --dev --data-dir "$tmp/$name/data" --api-port 0 --couch-port 0 \
        --invocations-per-minute 100000000 --concurrent-invocations 100000 "$@" >"$tmp/$name/wisp.out" 2>&1 &
    pids+=($!)
    wait_for_wisp_api "$!" "$tmp/$name/wisp.out"
    curl -fsS -o /dev/null -u "$AUTH" -H 'Content-Type: application/json' -X PUT \
        "$api/api/v1/namespaces/_/actions/noop?overwrite=true" \
        --data-binary '{"exec":{"kind":"builtin","code":"echo"}}' || die "cannot create the no-op on $name"
    printf -v "url_$name" '%s' "$api/api/v1/namespaces/_/actions/noop?blocking=true&result=true"
}
start_wisp on --metrics on --log-level info --log-file "$tmp/on/wisp.log"
start_wisp off --metrics off --log-level off

write_invoke_lua "$tmp/invoke.lua" "$AUTH"


declare -A rates latencies
errors=0
for ((round = 1; round <= ROUNDS; round++)); do
    for name in on off; do
        url_var="url_$name"
        echo "observability.sh: round $round/$ROUNDS, $name..." >&2
        read -r rps _ err_rate < <(wrk_rate_p50 "${!url_var}" "$CLIENTS" "$tmp/invoke.lua")
        read -r _ p50 err_p50 < <(wrk_rate_p50 "${!url_var}" 1 "$tmp/invoke.lua")
        rates[$name]+="$rps "
        latencies[$name]+="$p50 "
        errors=$((errors + err_rate + err_p50))
    done
done

median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR] = $1} END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
on_rps=$(median "${rates[on]}"); off_rps=$(median "${rates[off]}")
on_p50=$(median "${latencies[on]}"); off_p50=$(median "${latencies[off]}")
rate_overhead=$(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN { printf "%.1f", 100 * (1 - a / b) }')
latency_overhead=$(awk -v a="$on_p50" -v b="$off_p50" 'BEGIN { printf "%.1f", 100 * (a / b - 1) }')
met() { awk -v v="$1" 'BEGIN { print (v < 5) ? "yes" : "NO" }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wisp: $("$WISP_BIN" --version); $ROUNDS rounds of $DURATION per configuration; medians"
echo "log lines written by 'on': $(wc -l <"$tmp/on/wisp.log")"
printf '%-40s %12s %12s %10s %6s\n' case on off overhead met
printf '%-40s %12s %12s %9s%% %6s\n' "built-in no-op, $CLIENTS clients (invokes/s)" "$on_rps" "$off_rps" "$rate_overhead" "$(met "$rate_overhead")"
printf '%-40s %12s %12s %9s%% %6s\n' "built-in no-op p50, 1 client (ms)" "$on_p50" "$off_p50" "$latency_overhead" "$(met "$latency_overhead")"
echo "non-2xx answers: $errors"

if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOF
{"on_rps": $on_rps, "off_rps": $off_rps, "rate_overhead_percent": $rate_overhead,
 "on_p50_ms": $on_p50, "off_p50_ms": $off_p50, "latency_overhead_percent": $latency_overhead,
 "non_2xx": $errors, "clients": $CLIENTS, "rounds": $ROUNDS, "duration": "$DURATION"}
EOF
    echo "wrote $json_out"
fi
