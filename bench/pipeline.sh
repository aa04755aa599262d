#!/usr/bin/env bash
# bench/pipeline.sh: the Stack Overflow pipeline end to end, against its own store's _bulk_docs.
#
# What it measures, all on loopback, in one run of one `wisp serve --dev`:
#   1. ingest: `wisp sim stackexchange` holds QUESTIONS questions (no world events during
#      the run, with a key so paging is not capped at 25 pages); `wisp sim slack` takes the
#      notifications. The pipeline is deployed with `wisp deploy` from a bench manifest
#      that is src/apps/stackoverflow/manifest.yaml without its cron triggers and rules
#      (a cron tick would start a second poll of the same search meanwhile). The script
#      then invokes the sequence stackoverflow/socron (collector -> invoker; the invoker
#      starts stackoverflow/qhandler = storer -> notifier once per question) with an OR
#      search over every tag the simulated questions carry, one blocking poll after the
#      other (a poll reads at most MAX_PAGES pages of 100: its items travel in one
#      activation result of at most 1 MB), until the `questions` database holds every
#      question. Every activation is recorded, as always.
#      Figures: questions/s = QUESTIONS / (first poll sent -> last poll answered)
#      (target >= 10,000/s); and fetch -> stored latency per question, from the activation
#      records: a storer activation's end minus the start of the collector activation of
#      the poll that fetched it (polls do not overlap, so that is the latest collector
#      start before the storer's start): p50, p99, max; and the seconds spent in the
#      collectors (fetching) and in the invokers (storing and notifying), summed over the polls.
#   2. baseline: the same documents the storer writes (the simulator's /admin/questions,
#      in the storer's new-document shape), _bulk_docs into a fresh database of the same
#      server, batches of BATCH, one request at a time: docs/s.
#   3. ratio: ingest questions/s / baseline docs/s (target >= 0.25).
# It also checks that the database holds QUESTIONS documents and Slack got QUESTIONS
# messages.
#
# How to run it (needs curl, python3 and a built tree):
#   bench/pipeline.sh
#   QUESTIONS=20000 bench/pipeline.sh
#   bench/pipeline.sh --json /tmp/pipeline.json
#
# Knobs (environment):
#   QUESTIONS=100000    questions in the simulated world (100 a page: QUESTIONS/100 pages)
#   MAX_PAGES=3         pages one poll reads (the collector's max_pages)
#   CONCURRENCY=64      handler activations the invoker keeps in flight (1..256)
#   BATCH=1000          documents per _bulk_docs request of the baseline
#   SEED=1              seed of the simulated world
#   SLACK=1             0: no webhook (the notifier answers notified:false), to see its cost
#   WISP_BIN=...        the wisp binary (default: ../build/wisp relative to this script)
#
# Everything listens on 127.0.0.1, on free ports, out of a temp dir removed on exit;
# every process the script starts is stopped on exit, error or Ctrl-C. Run it on an
# otherwise idle machine: the simulators, the script and the server share the cores.
set -euo pipefail

QUESTIONS=${QUESTIONS:-100000}
MAX_PAGES=${MAX_PAGES:-3}
CONCURRENCY=${CONCURRENCY:-64}
BATCH=${BATCH:-1000}
SEED=${SEED:-1}
SLACK=${SLACK:-1}
ADMIN=admin:pw
SO_KEY=bench-key
# OpenWhisk standalone's well-known guest key, which `wisp serve --dev` uses.
AUTH=23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"

for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"
WISP_BIN=$(cd "$(dirname "$WISP_BIN")" && pwd)/$(basename "$WISP_BIN")
[[ -z $json_out ]] || json_out=$(cd "$(dirname "$json_out")" && pwd)/$(basename "$json_out")
[[ $QUESTIONS =~ ^[1-9][0-9]*$ ]] || die "QUESTIONS must be a positive number"

start_scratch pipeline

# wait_line PID LOG REGEX: the first match of REGEX in LOG, waiting up to 30s.
wait_line() {
    local pid=$1 log=$2 regex=$3 found deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        found=$(grep -oE "$regex" "$log" 2>/dev/null | head -n1 || true)
        [[ -n $found ]] && { echo "$found"; return 0; }
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "a process exited during start-up (log above)"; }
        sleep 0.1
    done
    cat "$log" >&2
    die "no line matching '$regex' within 30s (log above)"
}

busy_before=$(cpu_busy_percent)

# ---------------------------------------------------------------- simulators
echo "pipeline.sh: simulators ($QUESTIONS questions)..." >&2
# No world events during the run: the mean gap between events is 68 years.
"$WISP_BIN" sim stackexchange --port 0 --seed "$SEED" --questions "$QUESTIONS" \
    --event-interval 2147483647 >"$tmp/se.log" 2>&1 &
pids+=("$!")
se_api=$(wait_line "$!" "$tmp/se.log" 'http://127\.0\.0\.1:[0-9]+/2\.3')
se_base=${se_api%/2.3}
"$WISP_BIN" sim slack --port 0 >"$tmp/slack.log" 2>&1 &
pids+=("$!")
slack_hook=$(wait_line "$!" "$tmp/slack.log" 'http://127\.0\.0\.1:[0-9]+/services/[^ ,]+')
slack_base=${slack_hook%%/services/*}
slack_url=$slack_hook
[[ $SLACK == 1 ]] || slack_url=

# ---------------------------------------------------------------- wisp
echo "pipeline.sh: wisp serve..." >&2
"$WISP_BIN" serve --dev --data-dir "$tmp/data" --api-port 0 --couch-port 0 --admin "$ADMIN" \
    --log-level warn --invocations-per-minute 100000000 --concurrent-invocations 100000 \
    >"$tmp/wisp.log" 2>&1 &
wisp_pid=$!
pids+=("$wisp_pid")
api=$(wait_line "$wisp_pid" "$tmp/wisp.log" 'OpenWhisk API +http://[0-9.]+:[0-9]+' | grep -oE 'http://.*')
couch=$(wait_line "$wisp_pid" "$tmp/wisp.log" 'CouchDB API +http://[0-9.]+:[0-9]+' | grep -oE 'http://.*')

# ---------------------------------------------------------------- ground truth
# Every question, the tags they carry (the OR search), and the storer's documents.
curl -fsS --compressed "$se_base/admin/questions" -o "$tmp/truth.json" || die "cannot read /admin/questions"
python3 - "$tmp/truth.json" "$tmp" "$BATCH" "$QUESTIONS" <<'EOF'
import json, sys
truth, out, batch, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
items = json.load(open(truth))["items"]
if len(items) != want:
    sys.exit(f"the simulator holds {len(items)} questions, not {want}")
tags = sorted({t for q in items for t in q["tags"]})
json.dump(tags, open(f"{out}/tags.json", "w"))
with open(f"{out}/bulk.ndjson", "w") as f:
    for i in range(0, len(items), batch):
        docs = []
        for q in items[i:i + batch]:
            q = dict(q, tags=sorted(q["tags"]))
            docs.append({"_id": str(q["question_id"]), "type": "question", "question": q,
                         "status": "new", "owner": None, "notes": [], "custom_tags": []})
        f.write(json.dumps({"docs": docs}, separators=(",", ":")) + "\n")
EOF

# ---------------------------------------------------------------- deploy
# The shipped manifest without its triggers and rules: the script is the only poller.
cat >"$tmp/manifest.yaml" <<EOF
project:
  name: stackoverflow-bench
packages:
  stackoverflow:
    dependencies:
      so:
        location: /whisk.system/stackoverflow
        inputs:
          api_url: "$se_api"
          apikey: "$SO_KEY"
          site: stackoverflow
          slackURL: "$slack_url"
          dbname: questions
          max_pages: $MAX_PAGES
          concurrency: $CONCURRENCY
    sequences:
      socron:
        actions: so/collector, so/invoker
      qhandler:
        actions: so/storer, so/notifier
EOF
"$WISP_BIN" --apihost "$api" -u "$AUTH" deploy -m "$tmp/manifest.yaml" >"$tmp/deploy.log" 2>&1 ||
    { cat "$tmp/deploy.log" >&2; die "wisp deploy failed"; }

# ---------------------------------------------------------------- ingest
echo "pipeline.sh: ingest (polls of up to $MAX_PAGES pages)..." >&2
python3 - "$api" "$couch" "$AUTH" "$ADMIN" "$tmp/tags.json" "$QUESTIONS" "$MAX_PAGES" \
    >"$tmp/ingest.json" <<'EOF'
import base64, http.client, json, sys, time, urllib.parse
api, couch, auth, admin, tags_file, want, max_pages = sys.argv[1:8]
want, max_pages = int(want), int(max_pages)
tags = json.load(open(tags_file))
def conn_for(url, cred):
    u = urllib.parse.urlparse(url)
    return (http.client.HTTPConnection(u.hostname, u.port, timeout=600),
            {"Authorization": "Basic " + base64.b64encode(cred.encode()).decode(),
             "Content-Type": "application/json"})
wc, wh = conn_for(api, auth)
cc, ch = conn_for(couch, admin)
def call(c, h, method, path, body=None):
    c.request(method, path, body, h)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")
def doc_count():
    status, info = call(cc, ch, "GET", "/questions")
    return info.get("doc_count", 0) if status == 200 else 0
payload = json.dumps({"tags": tags, "search_type": "or"})
polls, failed, invoked = 0, 0, 0
limit = want // (100 * max_pages) * 2 + 20
start = time.time()
while True:
    status, rec = call(wc, wh, "POST", "/api/v1/namespaces/_/actions/stackoverflow/socron?blocking=true", payload)
    while status == 202:  # still running after the blocking wait: read the record when it is there
        aid = rec["activationId"]
        time.sleep(0.05)
        status, rec = call(wc, wh, "GET", f"/api/v1/namespaces/_/activations/{aid}")
        if status == 404:
            status = 202
    if status != 200 or not rec.get("response", {}).get("success"):
        sys.exit(f"poll {polls + 1} failed: HTTP {status}: {json.dumps(rec)[:600]}")
    result = rec["response"]["result"]
    polls += 1
    invoked += result.get("invoked", 0)
    failed += result.get("failed", 0)
    if doc_count() >= want:
        break
    if polls >= limit:
        sys.exit(f"{polls} polls and the database still lacks questions ({doc_count()} of {want})")
end = time.time()
print(json.dumps({"seconds": end - start, "polls": polls, "invoked": invoked, "failed": failed,
                  "start_ms": int(start * 1000), "end_ms": int(end * 1000), "stored": doc_count()}))
EOF
ingest_seconds=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["seconds"])' "$tmp/ingest.json")
read -r polls invoked failed stored < <(python3 -c 'import json,sys; d = json.load(open(sys.argv[1]))
print(d["polls"], d["invoked"], d["failed"], d["stored"])' "$tmp/ingest.json")
qps=$(awk -v n="$QUESTIONS" -v s="$ingest_seconds" 'BEGIN { printf "%.0f", n / s }')

# ---------------------------------------------------------------- latency from the records
# Records are written behind; wait until the count of storer records stops growing.
echo "pipeline.sh: fetch -> stored from the activation records..." >&2
python3 - "$couch" "$ADMIN" >"$tmp/latency.json" <<'EOF'
import base64, http.client, json, sys, time, urllib.parse, bisect
couch, admin = sys.argv[1:3]
u = urllib.parse.urlparse(couch)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
h = {"Authorization": "Basic " + base64.b64encode(admin.encode()).decode(), "Content-Type": "application/json"}
def find(name):
    body = json.dumps({"selector": {"name": name}, "fields": ["start", "end"], "limit": 100000000})
    c.request("POST", "/whisk_local_activations/_find", body, h)
    r = c.getresponse()
    data = json.loads(r.read())
    if r.status != 200:
        sys.exit(f"_find failed: {r.status} {data}")
    return data["docs"]
last, stable = -1, 0
for _ in range(100):
    storers = find("storer")
    if len(storers) == last:
        stable += 1
        if stable >= 2:
            break
    else:
        stable = 0
    last = len(storers)
    time.sleep(0.2)
collector_docs = find("collector")
collectors = sorted(d["start"] for d in collector_docs)
# Time spent fetching (the collectors) and fanning out (the invokers), summed over the polls.
fetch_s = sum(d["end"] - d["start"] for d in collector_docs) / 1000
fanout_s = sum(d["end"] - d["start"] for d in find("invoker")) / 1000
lat = []
for d in storers:
    i = bisect.bisect_right(collectors, d["start"]) - 1
    if i >= 0:
        lat.append(d["end"] - collectors[i])
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
print(json.dumps({"storer_records": len(storers), "collector_records": len(collectors),
                  "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": lat[-1] if lat else 0,
                  "fetch_s": round(fetch_s, 3), "fanout_s": round(fanout_s, 3)}))
EOF
read -r storer_records collector_records p50_ms p99_ms max_ms fetch_s fanout_s < <(python3 -c 'import json,sys; d = json.load(open(sys.argv[1]))
print(d["storer_records"], d["collector_records"], d["p50_ms"], d["p99_ms"], d["max_ms"], d["fetch_s"], d["fanout_s"])' "$tmp/latency.json")
slack_messages=$(curl -fsS "$slack_base/admin/messages" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')

# ---------------------------------------------------------------- baseline
echo "pipeline.sh: baseline _bulk_docs (batches of $BATCH)..." >&2
bulk=$(python3 - "$couch" "$ADMIN" "$tmp/bulk.ndjson" <<'EOF'
import base64, http.client, json, sys, time, urllib.parse
couch, admin, path = sys.argv[1:4]
u = urllib.parse.urlparse(couch)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
h = {"Authorization": "Basic " + base64.b64encode(admin.encode()).decode(), "Content-Type": "application/json"}
c.request("PUT", "/bulkbaseline", None, h)
r = c.getresponse(); r.read()
assert r.status in (201, 202), r.status
bodies = [line.encode() for line in open(path)]
n = 0
start = time.perf_counter()
for body in bodies:
    c.request("POST", "/bulkbaseline/_bulk_docs", body, h)
    r = c.getresponse()
    out = json.loads(r.read())
    assert r.status == 201, (r.status, out)
    n += sum(1 for row in out if row.get("ok"))
secs = time.perf_counter() - start
print(f"{n} {secs:.3f} {n / secs:.0f}")
EOF
)
read -r bulk_docs bulk_seconds bulk_rate <<<"$bulk"
[[ $bulk_docs == "$QUESTIONS" ]] || die "baseline stored $bulk_docs documents, not $QUESTIONS"
busy_after=$(cpu_busy_percent)

# ---------------------------------------------------------------- report
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "yes" : "NO" }'; }
ratio=$(awk -v a="$qps" -v b="$bulk_rate" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wisp: $("$WISP_BIN" --version); $QUESTIONS questions, $polls polls of up to $MAX_PAGES pages, invoker concurrency $CONCURRENCY"
printf '%-44s %12s %10s %6s\n' case figure target met
printf '%-44s %12s %10s %6s\n' "ingest, first poll -> last stored (s)" "$ingest_seconds" - -
printf '%-44s %12s %10s %6s\n' "ingest (questions/s)" "$qps" ">= 10000" "$(verdict "$qps" 10000)"
printf '%-44s %12s %10s %6s\n' "  in the collectors: fetching (s)" "$fetch_s" - -
printf '%-44s %12s %10s %6s\n' "  in the invokers: store + notify (s)" "$fanout_s" - -
printf '%-44s %12s %10s %6s\n' "fetch -> stored p50 (ms)" "$p50_ms" - -
printf '%-44s %12s %10s %6s\n' "fetch -> stored p99 (ms)" "$p99_ms" - -
printf '%-44s %12s %10s %6s\n' "fetch -> stored max (ms)" "$max_ms" - -
printf '%-44s %12s %10s %6s\n' "baseline _bulk_docs of the same documents (s)" "$bulk_seconds" - -
printf '%-44s %12s %10s %6s\n' "baseline _bulk_docs, batch $BATCH (docs/s)" "$bulk_rate" - -
printf '%-44s %12s %10s %6s\n' "ingest / _bulk_docs" "$ratio" ">= 0.25" "$(verdict "$ratio" 0.25)"
echo "checks: $stored documents stored, $invoked handler activations ($failed failed), $storer_records storer and $collector_records collector records, $slack_messages Slack messages"
if ((busy_before > 20)); then
    echo "WARNING: the CPUs were ${busy_before}% busy before the run (${busy_after}% after): the figures are low"
fi
[[ $SLACK == 1 ]] || echo "note: SLACK=0, the notifier had no webhook (nothing was posted)"
[[ $stored == "$QUESTIONS" && $failed == 0 ]] || echo "WARNING: not every question was stored without failures"
if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOF
{"questions": $QUESTIONS, "polls": $polls, "max_pages": $MAX_PAGES, "concurrency": $CONCURRENCY,
 "ingest_seconds": $ingest_seconds, "questions_per_second": $qps,
 "fetch_to_stored_p50_ms": $p50_ms, "fetch_to_stored_p99_ms": $p99_ms, "fetch_to_stored_max_ms": $max_ms,
 "collector_seconds": $fetch_s, "invoker_seconds": $fanout_s,
 "bulk_seconds": $bulk_seconds, "bulk_docs_per_second": $bulk_rate, "bulk_batch": $BATCH, "ratio_to_bulk_docs": $ratio,
 "stored": $stored, "failed": $failed, "slack_messages": $slack_messages,
 "cpu_busy_before_percent": $busy_before, "cpu_busy_after_percent": $busy_after}
EOF
    echo "wrote $json_out"
fi
