#!/usr/bin/env bash
# bench/store.sh: the CouchDB store of wisp compared with pouchdb-server and raw SQLite.
#
# What it measures, on the same generated documents (Stack Overflow-like questions of
# about 1.5 KB, deterministic: bench/store/docs.mjs), for wisp and for pouchdb-server
# (npm, LevelDB on disk), one server at a time, all on loopback:
#   1. _bulk_docs insert of N documents, batches of BATCH, one request at a time: docs/s
#      (target: wisp >= 10x pouchdb-server)
#   2. single-document PUT of PUTS new documents from CLIENTS concurrent keep-alive
#      clients: PUT/s (target >= 5x)
#   3. GET by id of GETS random ids from CLIENTS clients: GET/s (target >= 5x)
#   4. a full _changes read (normal feed, all N rows): seconds and rows/s (no target)
#   5. PouchDB (pouchdb + pouchdb-adapter-memory) pull replication of all N documents
#      into a memory database, batch_size REPL_BATCH: seconds (target: >= 3x faster from wisp)
#   6. the physical limit: wisp's bulk docs/s as a fraction of raw SQLite inserting the
#      same JSON text (python3 sqlite3; table id PRIMARY KEY + body, WAL,
#      synchronous=FULL, one transaction per BATCH documents) (target >= 0.5)
#   7. PouchDB (pouchdb + pouchdb-adapter-memory) push replication: a memory database
#      filled locally with the same N documents replicates to a fresh empty database on
#      the server, batch_size REPL_BATCH: seconds (target: >= 3x faster to wisp)
#   8. GET /{db}/_all_docs?include_docs=true of all N documents, one request, the whole
#      body read: MB/s of response body (MB = 10^6 bytes) and seconds (target >= 3x)
# and prints a table with wisp's figure, the baseline's and the ratio against its target.
#
# How to run it (needs node + npm, python3, curl; it runs `npm ci` in bench/ itself
# when bench/node_modules is missing or bench/package-lock.json changed):
#   bench/store.sh                        # N=100000, 20000 PUTs and GETs, 32 clients
#   QUICK=1 bench/store.sh                # smoke test: N=5000, 2000 PUTs and GETs
#   N=20000 CLIENTS=64 bench/store.sh
#   bench/store.sh --json /tmp/store.json # also write the figures as JSON
#
# Knobs (environment):
#   QUICK=0             1: N=5000, PUTS=GETS=2000 (each still overridable)
#   N=100000            documents bulk-inserted, read by _changes and _all_docs,
#                       replicated (pulled and pushed)
#   BATCH=1000          documents per _bulk_docs request and per SQLite transaction
#   PUTS=20000          single-document PUTs (case 2)
#   GETS=20000          GETs by id (case 3)
#   CLIENTS=32          concurrent clients for PUT and GET
#   REPL_BATCH=100      PouchDB replication batch_size (PouchDB's default)
#   SEED=42             seed of the document generator
#   SKIP_POUCHDB=0      1: do not run pouchdb-server (wisp and SQLite only)
#   WISP_BIN=...        the wisp binary (default: ../build/wisp relative to this script)
#   WISP_IO_THREADS=0   wisp --io-threads (0: one per core)
#
# Everything listens on 127.0.0.1 only, on free ports, out of a temp dir that is
# removed on exit (its data directories are on the temp dir's file system, so
# TMPDIR decides the disk); every process the script starts is stopped on exit,
# error or Ctrl-C. Run it on an otherwise idle machine: the load generator and the
# server share the cores.
set -euo pipefail

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    N=${N:-5000} PUTS=${PUTS:-2000} GETS=${GETS:-2000}
fi
N=${N:-100000}
BATCH=${BATCH:-1000}
PUTS=${PUTS:-20000}
GETS=${GETS:-20000}
CLIENTS=${CLIENTS:-32}
REPL_BATCH=${REPL_BATCH:-100}
SEED=${SEED:-42}
SKIP_POUCHDB=${SKIP_POUCHDB:-0}
WISP_IO_THREADS=${WISP_IO_THREADS:-0}
ADMIN=admin:pw

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"

for tool in node npm python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"
WISP_BIN=$(cd "$(dirname "$WISP_BIN")" && pwd)/$(basename "$WISP_BIN")
[[ -z $json_out ]] || json_out=$(cd "$(dirname "$json_out")" && pwd)/$(basename "$json_out")

# ---------------------------------------------------------------- npm packages
ensure_bench_npm

# ---------------------------------------------------------------- cleanup
start_scratch store

# ---------------------------------------------------------------- helpers
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_url() { # wait_url NAME PID URL LOG [AUTH]: poll URL until it answers 200, for up to 30s
    local name=$1 pid=$2 url=$3 log=$4 auth=${5:-} deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start-up (log above)"; }
        if curl -fsS --max-time 2 ${auth:+-u "$auth"} "$url" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    cat "$log" >&2
    die "$name did not answer $url within 30s (log above)"
}

# run_bg OUT CMD...: run CMD > OUT in the background and wait, so that Ctrl-C reaches the traps.
run_bg() {
    local out=$1 pid
    shift
    "$@" >"$out" 2>"$out.err" &
    pid=$!
    pids+=("$pid")
    wait "$pid" || { cat "$out.err" >&2; die "failed: $*"; }
}

load_cmd=(node "$script_dir/store/load.mjs" --docs "$tmp/docs.ndjson" --batch "$BATCH"
    --clients "$CLIENTS" --puts "$PUTS" --gets "$GETS" --repl-batch "$REPL_BATCH" --seed "$SEED")

# ---------------------------------------------------------------- documents
node "$script_dir/store/docs.mjs" "$N" "$tmp/docs.ndjson" "$SEED" >"$tmp/docs.json"
avg_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["avg_bytes"])' "$tmp/docs.json")

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
cpu_model=${cpu_model:-unknown}
cores=$(nproc)
wisp_version=$("$WISP_BIN" --version 2>&1 | head -n1)
node_version=$(node --version)
pouchdb_server_version=$(node -p 'require(process.argv[1]).version' "$script_dir/node_modules/pouchdb-server/package.json")
pouchdb_version=$(node -p 'require(process.argv[1]).version' "$script_dir/node_modules/pouchdb/package.json")

echo "machine: $cores cores, $cpu_model"
echo "versions: $wisp_version; pouchdb-server $pouchdb_server_version; pouchdb $pouchdb_version (client); node $node_version"
echo "documents: N=$N, about $avg_bytes bytes each; batch $BATCH; $PUTS PUTs and $GETS GETs from $CLIENTS clients; replication batch_size $REPL_BATCH"
echo

# ---------------------------------------------------------------- raw SQLite
echo "store.sh: raw SQLite..." >&2
run_bg "$tmp/sqlite.json" python3 "$script_dir/store/sqlite_insert.py" "$tmp/docs.ndjson" "$tmp/raw.sqlite" "$BATCH"
rm -f "$tmp"/raw.sqlite*

# ---------------------------------------------------------------- wisp
echo "store.sh: wisp..." >&2
mkdir -p "$tmp/wisp-data"
"$WISP_BIN" serve --data-dir "$tmp/wisp-data" --bind 127.0.0.1 --api-port 0 --couch-port 0 \
    --io-threads "$WISP_IO_THREADS" --admin "$ADMIN" --log-level warn >"$tmp/wisp.log" 2>&1 &
wisp_pid=$!
pids+=("$wisp_pid")
wisp_port=
for ((i = 0; i < 100; i++)); do
    wisp_port=$(sed -n 's|.*CouchDB API *http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/wisp.log" | head -n1)
    [[ -n $wisp_port ]] && break
    kill -0 "$wisp_pid" 2>/dev/null || break
    sleep 0.1
done
[[ -n $wisp_port ]] || { cat "$tmp/wisp.log" >&2; die "no CouchDB port in wisp's banner"; }
wait_url wisp "$wisp_pid" "http://127.0.0.1:$wisp_port/" "$tmp/wisp.log" "$ADMIN"
run_bg "$tmp/wisp.json" "${load_cmd[@]}" --url "http://127.0.0.1:$wisp_port" --auth "$ADMIN"
stop_pid "$wisp_pid"

# ---------------------------------------------------------------- pouchdb-server
if [[ $SKIP_POUCHDB != 1 ]]; then
    echo "store.sh: pouchdb-server..." >&2
    pouch_port=$(free_port)
    mkdir -p "$tmp/pouch/db"
    # Run from its own dir: it writes config.json and log.txt to the working directory.
    (cd "$tmp/pouch" && exec "$script_dir/node_modules/.bin/pouchdb-server" --host 127.0.0.1 \
        --port "$pouch_port" --dir "$tmp/pouch/db" --config "$tmp/pouch/config.json" \
        --no-stdout-logs) >"$tmp/pouch.log" 2>&1 &
    pouch_pid=$!
    pids+=("$pouch_pid")
    wait_url pouchdb-server "$pouch_pid" "http://127.0.0.1:$pouch_port/" "$tmp/pouch.log"
    run_bg "$tmp/pouch.json" "${load_cmd[@]}" --url "http://127.0.0.1:$pouch_port"
    stop_pid "$pouch_pid"
else
    echo '{}' >"$tmp/pouch.json"
fi

# ---------------------------------------------------------------- report
python3 - "$tmp/wisp.json" "$tmp/pouch.json" "$tmp/sqlite.json" "$json_out" <<EOF
import json, sys
w = json.load(open(sys.argv[1])); p = json.load(open(sys.argv[2])); s = json.load(open(sys.argv[3]))
json_out = sys.argv[4]
have_p = bool(p)

def fmt(v, unit):
    if v is None: return "-"
    if unit == "MB/s": return f"{v:,.1f}"
    return f"{v:,.2f} s" if unit == "s" else f"{v:,.0f}"

rows = []
def row(case, unit, wv, bv, base, ratio, target, higher_better=True):
    meets = None if ratio is None or target is None else ratio >= target
    rows.append(dict(case=case, unit=unit, wisp=wv, baseline=bv, baseline_name=base,
                     ratio=ratio, target=target, meets=meets))

def rate(case, key, unit, target, field="per_sec"):
    wv = w[key][field]; bv = p[key][field] if have_p else None
    row(case, unit, wv, bv, "pouchdb-server", (wv / bv) if bv else None, target)

rate("1 _bulk_docs insert", "bulk", "docs/s", 10)
rate("2 PUT, $CLIENTS clients", "put", "PUT/s", 5)
rate("3 GET by id, $CLIENTS clients", "get", "GET/s", 5)
wc, pc = w["changes"]["seconds"], (p["changes"]["seconds"] if have_p else None)
row("4 _changes, all rows", "s", wc, pc, "pouchdb-server", (pc / wc) if pc else None, None)
rate("4 _changes, all rows", "changes", "rows/s", None)
wr, pr = w["repl"]["seconds"], (p["repl"]["seconds"] if have_p else None)
row("5 PouchDB pull replication", "s", wr, pr, "pouchdb-server", (pr / wr) if pr else None, 3)
row("6 bulk insert vs raw SQLite", "docs/s", w["bulk"]["per_sec"], s["per_sec"], "raw SQLite",
    w["bulk"]["per_sec"] / s["per_sec"], 0.5)
wu, pu = w["push"]["seconds"], (p["push"]["seconds"] if have_p else None)
row("7 PouchDB push replication", "s", wu, pu, "pouchdb-server", (pu / wu) if pu else None, 3)
wa, pa = w["all_docs"]["seconds"], (p["all_docs"]["seconds"] if have_p else None)
row("8 _all_docs include_docs", "s", wa, pa, "pouchdb-server", (pa / wa) if pa else None, None)
rate("8 _all_docs include_docs", "all_docs", "MB/s", 3, "mb_per_sec")

print(f"{'case':<30} {'unit':<7} {'wisp':>11} {'baseline':>11}  {'baseline is':<15} {'ratio':>7}  target")
for r in rows:
    ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
    tgt = "-" if r["target"] is None else f">={r['target']}x: " + ("yes" if r["meets"] else "NO")
    print(f"{r['case']:<30} {r['unit']:<7} {fmt(r['wisp'], r['unit']):>11} {fmt(r['baseline'], r['unit']):>11}  "
          f"{r['baseline_name']:<15} {ratio:>7}  {tgt}")
print("ratios: wisp/baseline for rates, baseline seconds / wisp seconds for times (higher is better for wisp)")
print(f"raw SQLite: {s['sqlite_version']} via python {s['python_version']}")

problems = []
for name, res in (("wisp", w), ("pouchdb-server", p)):
    if not res: continue
    for k in ("bulk", "put", "get"):
        if res[k]["errors"]:
            problems.append(f"{name} {k}: {res[k]['errors']} errors; first: {json.dumps(res[k]['first_error'])}")
    if not res["changes"]["complete"]:
        problems.append(f"{name} _changes returned {res['changes']['rows']} rows, not {res['n']}")
    if not res["repl"]["complete"] or res["repl"]["errors"]:
        problems.append(f"{name} replication: {res['repl']['doc_count']} docs of {res['n']}, {res['repl']['errors']} errors")
    if not res["push"]["complete"] or res["push"]["errors"]:
        problems.append(f"{name} push replication: {res['push']['doc_count']} docs of {res['n']}, {res['push']['errors']} errors")
    if not res["all_docs"]["complete"]:
        problems.append(f"{name} _all_docs?include_docs=true returned {res['all_docs']['rows']} rows "
                        f"({res['all_docs']['docs']} with their doc), not {res['n']}")
for line in problems:
    print("problem:", line)

if json_out:
    json.dump({
        "benchmark": "store",
        "machine": {"nproc": $cores, "cpu_model": "$cpu_model"},
        "versions": {"wisp": "$wisp_version", "pouchdb_server": "$pouchdb_server_version",
                     "pouchdb": "$pouchdb_version", "node": "$node_version",
                     "sqlite": s["sqlite_version"], "python": s["python_version"]},
        "params": {"n": $N, "batch": $BATCH, "puts": $PUTS, "gets": $GETS, "clients": $CLIENTS,
                   "repl_batch": $REPL_BATCH, "seed": $SEED, "avg_doc_bytes": $avg_bytes},
        "wisp": w, "pouchdb_server": p or None, "sqlite": s, "rows": rows, "problems": problems,
    }, open(json_out, "w"), indent=2)
    print("wrote", json_out)
EOF
