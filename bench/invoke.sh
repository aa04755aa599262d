#!/usr/bin/env bash
# bench/invoke.sh: blocking invokes through wisp's OpenWhisk REST API, with records written.
#
# What it measures, all on loopback against one `wisp serve --dev` (records are stored
# for every invoke, as always):
#   1. /ping with CLIENTS connections: req/s (the HTTP ceiling of the same run)
#   2. a built-in no-op (guest action of kind builtin, code "echo"), blocking, result=true:
#      p50 latency at 1 client (target <= 0.2 ms) and invokes/s at CLIENTS
#      (target >= 20,000/s at 16)
#   3. a native actionloop no-op, warm (the C++ SDK example build/examples/actions/hello,
#      as a base64 binary): p50 at 1 client (target <= 0.5 ms) and invokes/s at CLIENTS
#   4. the cold start of that native action, from request to result with a new process:
#      before each sample the action is updated (a new version is a new process pool),
#      then one blocking invoke is timed; p50 over COLD_SAMPLES (target <= 10 ms)
# and the warm invoke rates as fractions of the /ping rate. wrk drives cases 1 to 3
# (one wrk thread per 8 connections, at least 1); python3 times case 4.
#
# How to run it (needs wrk, curl, python3 and a built tree):
#   bench/invoke.sh
#   DURATION=5s CLIENTS=32 bench/invoke.sh
#   bench/invoke.sh --json /tmp/invoke.json
#
# Knobs (environment):
#   DURATION=10s        each wrk run
#   CLIENTS=16          connections for the rate cases
#   COLD_SAMPLES=50     cold starts timed in case 4
#   WISP_BIN=...        the wisp binary (default: ../build/wisp relative to this script)
#   HELLO_BIN=...       the native action (default: ../build/examples/actions/hello/hello)
#   WISP_FLAGS=...      more `wisp serve` flags, e.g. --sandbox=off
#
# Run it on an otherwise idle machine: wrk and the server share the cores.
set -euo pipefail
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-16}
COLD_SAMPLES=${COLD_SAMPLES:-50}
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"
HELLO_BIN=${HELLO_BIN:-$script_dir/../build/examples/actions/hello/hello}

for tool in wrk curl python3 base64; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"
[[ -x $HELLO_BIN ]] || die "native example not found at $HELLO_BIN (build the tree, or set HELLO_BIN)"

# OpenWhisk standalone's well-known guest key, which `wisp serve --dev` uses.
AUTH=23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-invoke.XXXXXX")
wisp_pid=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $wisp_pid ]] && kill -0 "$wisp_pid" 2>/dev/null; then
        kill -TERM "$wisp_pid" 2>/dev/null || true
        wait "$wisp_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$WISP_BIN" serve --dev --data-dir "$tmp/data" --api-port 0 --couch-port 0 --log-level warn \
    --invocations-per-minute 100000000 --concurrent-invocations 100000 ${WISP_FLAGS:-} >"$tmp/wisp.out" 2>&1 &
wisp_pid=$!
wait_for_wisp_api "$wisp_pid" "$tmp/wisp.out"

put_action() { # put_action NAME JSON: create or overwrite an action of the guest namespace
    curl -fsS -o /dev/null -u "$AUTH" -H 'Content-Type: application/json' -X PUT \
        "$api/api/v1/namespaces/_/actions/$1?overwrite=true" --data-binary "@$2" ||
        die "cannot create action $1"
}
printf '{"exec":{"kind":"builtin","code":"echo"}}' >"$tmp/noop.json"
put_action noop "$tmp/noop.json"
python3 - "$HELLO_BIN" >"$tmp/hello.json" <<'EOF'
import base64, json, sys
code = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps({"exec": {"kind": "native", "code": code, "binary": True},
                  "annotations": [{"key": "wait-for-ack", "value": True}]}))
EOF
put_action hello "$tmp/hello.json"

write_invoke_lua "$tmp/invoke.lua" "$AUTH"


echo "invoke.sh: /ping..." >&2
read -r ping_rps _ _ < <(wrk_rate_p50 "$api/ping" "$CLIENTS")
invoke() { echo "$api/api/v1/namespaces/_/actions/$1?blocking=true&result=true"; }
echo "invoke.sh: built-in no-op..." >&2
read -r _ builtin_p50 builtin_err1 < <(wrk_rate_p50 "$(invoke noop)" 1 "$tmp/invoke.lua")
read -r builtin_rps _ builtin_err16 < <(wrk_rate_p50 "$(invoke noop)" "$CLIENTS" "$tmp/invoke.lua")
echo "invoke.sh: native no-op, warm..." >&2
read -r _ native_p50 native_err1 < <(wrk_rate_p50 "$(invoke hello)" 1 "$tmp/invoke.lua")
read -r native_rps _ native_err16 < <(wrk_rate_p50 "$(invoke hello)" "$CLIENTS" "$tmp/invoke.lua")

echo "invoke.sh: native cold starts..." >&2
read -r cold_p50 cold_init_p50 cold_max < <(cold_starts "$tmp/hello.json" 0 '{"name":"cold"}')

verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == "<=") ? (a <= b) : (a >= b); print ok ? "yes" : "NO" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wisp: $("$WISP_BIN" --version); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); $DURATION per run; $CLIENTS clients"
printf '%-38s %12s %10s %10s\n' case figure target met
printf '%-38s %12s %10s %10s\n' "/ping, $CLIENTS clients (req/s)" "$ping_rps" - -
printf '%-38s %12s %10s %10s\n' "built-in no-op p50, 1 client (ms)" "$builtin_p50" "<= 0.2" "$(verdict "$builtin_p50" '<=' 0.2)"
printf '%-38s %12s %10s %10s\n' "built-in no-op, $CLIENTS clients (invokes/s)" "$builtin_rps" ">= 20000" "$(verdict "$builtin_rps" '>=' 20000)"
printf '%-38s %12s %10s %10s\n' "native warm p50, 1 client (ms)" "$native_p50" "<= 0.5" "$(verdict "$native_p50" '<=' 0.5)"
printf '%-38s %12s %10s %10s\n' "native warm, $CLIENTS clients (invokes/s)" "$native_rps" - -
printf '%-38s %12s %10s %10s\n' "native cold start p50 (ms)" "$cold_p50" "<= 10" "$(verdict "$cold_p50" '<=' 10)"
printf '%-38s %12s %10s %10s\n' "  its initTime p50 (ms); worst (ms)" "$cold_init_p50; $cold_max" - -
printf '%-38s %12s %10s %10s\n' "built-in rate / ping rate" "$(ratio "$builtin_rps" "$ping_rps")" - -
printf '%-38s %12s %10s %10s\n' "native warm rate / ping rate" "$(ratio "$native_rps" "$ping_rps")" - -
errors=$((builtin_err1 + builtin_err16 + native_err1 + native_err16))
echo "non-2xx answers during the wrk runs: $errors"

if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOF
{"ping_rps": $ping_rps, "builtin_p50_ms": $builtin_p50, "builtin_rps": $builtin_rps,
 "native_warm_p50_ms": $native_p50, "native_warm_rps": $native_rps,
 "native_cold_p50_ms": $cold_p50, "native_cold_init_p50_ms": $cold_init_p50, "non_2xx": $errors,
 "clients": $CLIENTS, "duration": "$DURATION"}
EOF
    echo "wrote $json_out"
fi
