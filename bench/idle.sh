#!/usr/bin/env bash
# bench/idle.sh: what `wisp serve` costs while nothing happens.
#
# It starts `wisp serve --dev`, creates TRIGGERS triggers, each armed with the
# /whisk.system/alarms/alarm feed on a cron that does not come due during the
# run (CRON, default 04:00 on 1 January), waits 2 s for start-up work to settle,
# then leaves it alone for IDLE seconds and reports:
#   - the CPU seconds wisp used meanwhile (utime + stime; target <= 0.1)
#   - its RSS at the end (VmRSS; target <= 60 MB), and its peak (VmHWM)
#
# How to run it (needs curl, python3 and a built tree):
#   bench/idle.sh
#   IDLE=10 bench/idle.sh --json /tmp/idle.json
#
# Knobs (environment): IDLE=60, TRIGGERS=10, CRON='0 4 1 1 *', WISP_BIN.
#
# Run it on an otherwise idle machine: a busy machine inflates the CPU figure.
set -euo pipefail
IDLE=${IDLE:-60}
TRIGGERS=${TRIGGERS:-10}
CRON=${CRON:-0 4 1 1 *}
TARGET_CPU=0.1
TARGET_RSS_MB=60
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"
for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-idle.XXXXXX")
wisp_pid=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $wisp_pid ]] && stop_pid "$wisp_pid" 10
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

busy_before=$(cpu_busy_percent)
AUTH=23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP
"$WISP_BIN" serve --dev --data-dir "$tmp/data" --api-port 0 --couch-port 0 --log-level warn >"$tmp/wisp.out" 2>&1 &
wisp_pid=$!
wait_for_wisp_api "$wisp_pid" "$tmp/wisp.out"

echo "idle.sh: arming $TRIGGERS cron triggers ('$CRON')..." >&2
for i in $(seq "$TRIGGERS"); do
    curl -fsS -o /dev/null -u "$AUTH" -H 'Content-Type: application/json' -X PUT \
        "$api/api/v1/namespaces/_/triggers/tick$i" \
        --data '{"annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}' || die "cannot create trigger tick$i"
    body=$(python3 -c 'import json, sys; print(json.dumps({"lifecycleEvent": "CREATE", "triggerName": "/_/" + sys.argv[1],
        "authKey": sys.argv[2], "cron": sys.argv[3]}))' "tick$i" "$AUTH" "$CRON")
    curl -fsS -o /dev/null -u "$AUTH" -H 'Content-Type: application/json' -X POST \
        "$api/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true" --data "$body" ||
        die "cannot arm trigger tick$i"
done
sleep 2

clk_tck=$(getconf CLK_TCK)
echo "idle.sh: idle for ${IDLE}s..." >&2
c0=$(proc_ticks "$wisp_pid")
sleep "$IDLE"
c1=$(proc_ticks "$wisp_pid")
kill -0 "$wisp_pid" 2>/dev/null || die "wisp exited while idle"
cpu_s=$(awk -v d=$((c1 - c0)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", d / hz }')
rss_mb=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$wisp_pid/status")
hwm_mb=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$wisp_pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$wisp_pid/status")
met() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b ? "yes" : "NO") }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); CPUs ${busy_before}% busy before the run"
((busy_before > 10)) && echo "WARNING: the CPUs were ${busy_before}% busy before the run; the CPU figure is not trustworthy"
echo "$("$WISP_BIN" --version); $TRIGGERS armed cron triggers; idle ${IDLE}s; $threads threads"
echo "CPU used while idle: ${cpu_s} s (target <= $TARGET_CPU: $(met "$cpu_s" "$TARGET_CPU"); clock tick $((1000 / clk_tck)) ms)"
echo "RSS: ${rss_mb} MB (target <= $TARGET_RSS_MB: $(met "$rss_mb" "$TARGET_RSS_MB")); peak ${hwm_mb} MB"
if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOJ
{"idle_seconds": $IDLE, "triggers": $TRIGGERS, "cpu_seconds": $cpu_s, "rss_mb": $rss_mb, "peak_rss_mb": $hwm_mb,
 "threads": $threads, "busy_before_percent": $busy_before}
EOJ
    echo "wrote $json_out"
fi
