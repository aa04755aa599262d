#!/usr/bin/env bash
# bench/load.sh: many listeners, writers, the pipeline and web actions at once (issue I, item 9).
#
# One `wisp demo` (the server, the Stack Exchange and Slack simulators and the deployed
# pipeline, whose searches run every 10 s on a world with a new event about every second)
# carries, at the same time and for DURATION seconds, all on loopback:
#   - LISTENERS _changes listeners on one database, half longpoll and half continuous
#     (bench/load.mjs), opened before the writers start;
#   - WRITERS writers creating documents in that database, one PUT at a time, at most
#     WRITE_RATE a second each (bench/load.mjs);
#   - wrk with WRK_CONNECTIONS connections on a web action (the native hello example).
# It records, and prints:
#   - errors: failed or non-2xx writes, listener errors, wrk's socket errors and non-2xx
#     answers, failed pipeline activations (all must be 0);
#   - wisp's RSS, sampled every second: at the start, the peak and at the end;
#   - write latency p50/p99, and delivery latency p50/p99 (from a write being sent to a
#     listener reading its change, over every listener and change);
#   - whether every listener saw every change;
#   - wrk's rate and p50/p99 latency;
#   - the questions the pipeline stored during the run.
# It exits 1 when an error was counted or a listener missed a change.
#
# How to run it (needs node, wrk, curl, python3 and a built tree):
#   bench/load.sh
#   DURATION=20 LISTENERS=200 bench/load.sh --json /tmp/load.json
#
# Knobs (environment): DURATION=60, LISTENERS=1000, WRITERS=50, WRITE_RATE=4,
# WRK_CONNECTIONS=8, DRAIN=60 (the longest wait for the listeners to catch up), WISP_BIN, HELLO_BIN (default ../build/examples/actions/hello/hello).
#
# It raises `ulimit -n` to 65536. Every process it starts is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-60}
LISTENERS=${LISTENERS:-1000}
WRITERS=${WRITERS:-50}
WRITE_RATE=${WRITE_RATE:-4}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-8}

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"
HELLO_BIN=${HELLO_BIN:-$script_dir/../build/examples/actions/hello/hello}
for tool in node wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"
[[ -x $HELLO_BIN ]] || die "native example not found at $HELLO_BIN (build the tree, or set HELLO_BIN)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

start_scratch load

"$WISP_BIN" demo --data-dir "$tmp/data" --api-port 0 --couch-port 0 --event-interval 1 \
    --max-feeds $((LISTENERS + 100)) --invocations-per-minute 100000000 \
    --log-level warn >"$tmp/demo.out" 2>&1 &
wisp_pid=$!
pids+=("$wisp_pid")
for _ in $(seq 300); do
    grep -q 'Ctrl-C stops everything' "$tmp/demo.out" && break
    kill -0 "$wisp_pid" 2>/dev/null || { cat "$tmp/demo.out" >&2; die "wisp demo exited during start-up"; }
    sleep 0.1
done
api=$(grep -o 'OpenWhisk API   http://[0-9.:]*' "$tmp/demo.out" | grep -o 'http://.*')
auth=$(grep -o 'AUTH=[^)]*' "$tmp/demo.out" | head -1 | cut -d= -f2)
couch=$(grep -o 'CouchDB API     http://[0-9.:]*' "$tmp/demo.out" | grep -o 'http://.*')
admin=$(grep -o '(admin [^)]*)' "$tmp/demo.out" | sed 's/^(admin //; s/)$//')
[[ -n $api && -n $auth && -n $couch && -n $admin ]] || { cat "$tmp/demo.out" >&2; die "cannot read the demo's addresses"; }

python3 - "$HELLO_BIN" >"$tmp/hello.json" <<'EOP'
import base64, json, sys
code = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps({"exec": {"kind": "native", "code": code, "binary": True},
                  "annotations": [{"key": "web-export", "value": True}]}))
EOP
curl -fsS -o /dev/null -u "$auth" -H 'Content-Type: application/json' -X PUT \
    "$api/api/v1/namespaces/_/actions/hello?overwrite=true" --data-binary "@$tmp/hello.json" || die "cannot create the web action"
namespace=$(curl -fsS -u "$auth" "$api/api/v1/namespaces" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
web_url="$api/api/v1/web/$namespace/default/hello.json?name=world"
curl -fsS -o /dev/null "$web_url" || die "the web action does not answer at $web_url"

questions() { curl -fsS -u "$admin" "$couch/questions" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["doc_count"])' 2>/dev/null || echo 0; }
failed_activations() { # pipeline activations that did not succeed, among the newest 200 of each action
    local name total=0 n
    for name in collector invoker storer notifier; do
        n=$(curl -fsS -u "$auth" "$api/api/v1/namespaces/_/activations?name=$name&limit=200&docs=true" | python3 -c '
import json, sys
print(sum(1 for a in json.load(sys.stdin) if a.get("response", {}).get("statusCode", 0) != 0))')
        total=$((total + n))
    done
    echo "$total"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$wisp_pid/status"; }

questions_before=$(questions)
failed_before=$(failed_activations)
rss_start=$(rss_kb)
echo "load.sh: $LISTENERS listeners, $WRITERS writers at <= $WRITE_RATE/s, wrk -c$WRK_CONNECTIONS, the pipeline; ${DURATION} s" >&2

(while kill -0 "$wisp_pid" 2>/dev/null; do rss_kb; sleep 1; done) >"$tmp/rss.txt" &
pids+=($!)
DURATION=$DURATION LISTENERS=$LISTENERS WRITERS=$WRITERS WRITE_RATE=$WRITE_RATE DRAIN=${DRAIN:-60} \
    node "$script_dir/load.mjs" "$couch" "$admin" >"$tmp/load.json" 2>"$tmp/load.err" &
load_pid=$!
pids+=("$load_pid")
# wrk starts once the listeners are connected, with the writers.
for _ in $(seq 600); do grep -q 'listeners connected' "$tmp/load.err" && break; kill -0 "$load_pid" || break; sleep 0.1; done
cat "$tmp/load.err" >&2
wrk -t2 -c"$WRK_CONNECTIONS" -d"${DURATION}s" --latency "$web_url" >"$tmp/wrk.txt" 2>&1
wait "$load_pid" || { cat "$tmp/load.err" >&2; die "load.mjs failed"; }
rss_end=$(rss_kb)
questions_after=$(questions)
failed_after=$(failed_activations)

python3 - "$tmp" "$rss_start" "$rss_end" "$questions_before" "$questions_after" "$failed_before" "$failed_after" \
    "${json_out:-}" <<'EOP'
import json, re, sys
tmp, rss_start, rss_end, q0, q1, f0, f1, json_out = sys.argv[1:]
load = json.load(open(f"{tmp}/load.json"))
rss = [int(x) for x in open(f"{tmp}/rss.txt").read().split()]
wrk = open(f"{tmp}/wrk.txt").read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
pct = {m.group(1): ms(m.group(2)) for m in re.finditer(r"^\s+(50|99)%\s+(\S+)", wrk, re.M)}
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
wrk_errors = (sum(map(int, socket.groups())) if socket else 0) + (int(non2xx.group(1)) if non2xx else 0)
out = {
    "load": load,
    "rss_mb": {"start": int(rss_start) / 1024, "peak": max(rss + [int(rss_end)]) / 1024, "end": int(rss_end) / 1024},
    "wrk": {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)),
            "p50_ms": pct.get("50"), "p99_ms": pct.get("99"), "errors": wrk_errors},
    "pipeline": {"questions_stored": int(q1) - int(q0), "questions_total": int(q1),
                 "failed_activations": max(0, int(f1) - int(f0))},
}
out["errors"] = load["errors"] + wrk_errors + out["pipeline"]["failed_activations"]
r, w, p = out["rss_mb"], out["wrk"], out["pipeline"]
print(f"""
listeners              {load['connected']} of {load['listeners']} connected; {load['listeners_saw_every_change']} saw every change
writes                 {load['writes']} by {load['writers']} writers: p50 {load['write_p50_ms']:.1f} ms, p99 {load['write_p99_ms']:.1f} ms
delivery               {load['deliveries']} changes delivered: p50 {load['delivery_p50_ms']:.1f} ms, p99 {load['delivery_p99_ms']:.1f} ms
web action (wrk)       {w['requests_per_s']:.0f} req/s: p50 {w['p50_ms']:.2f} ms, p99 {w['p99_ms']:.2f} ms
pipeline               {p['questions_stored']} questions stored during the run ({p['questions_total']} in all), {p['failed_activations']} failed activations
wisp RSS (MB)          start {r['start']:.1f}, peak {r['peak']:.1f}, end {r['end']:.1f}
errors                 {out['errors']} (writes/listeners {load['errors']}, wrk {wrk_errors}, activations {p['failed_activations']})""")
if load["first_errors"]:
    print("first errors:", load["first_errors"])
if json_out:
    json.dump(out, open(json_out, "w"), indent=2)
sys.exit(0 if out["errors"] == 0 and load["listeners_saw_every_change"] == load["listeners"] else 1)
EOP
