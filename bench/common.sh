# Sourced by the bench/*.sh scripts: the wisp binary, --help, --json FILE,
# die(), stop_pid(), free ports, CPU ticks and busy-CPU checks, and the npm
# packages of bench/package-lock.json. Each script sets nothing before sourcing but `set -euo pipefail`.

bench_name=$(basename "${BASH_SOURCE[1]}")
script_dir=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
WISP_BIN=${WISP_BIN:-$script_dir/../build/wisp}

# The calling script's header comment, from its second line to `set -euo pipefail`.
usage() {
    sed -n '2,/^set -euo pipefail/p' "${BASH_SOURCE[2]}" | sed '$d; s/^# \{0,1\}//'
}

die() { echo "$bench_name: $*" >&2; exit 1; }

# Sets json_out from --json FILE; handles --help; refuses anything else.
parse_bench_args() {
    json_out=
    while (($#)); do
        case $1 in
            --json)
                [[ $# -ge 2 ]] || { echo "$bench_name: --json needs a file" >&2; exit 2; }
                json_out=$2
                shift 2
                ;;
            --json=*) json_out=${1#--json=}; shift ;;
            -h | --help) usage; exit 0 ;;
            *) echo "$bench_name: unknown argument: $1 (try --help)" >&2; exit 2 ;;
        esac
    done
}

stop_pid() { # stop_pid PID [SECONDS=10]: TERM, wait up to SECONDS, then KILL
    local pid=$1 tenths=$(( ${2:-10} * 10 )) i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

free_ports() { # free_ports N: N distinct free TCP ports on 127.0.0.1
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

proc_ticks() { # proc_ticks PID...: utime+stime (clock ticks) summed over the live PIDs
    local pid total=0 stat rest f
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        rest=${stat##*) }            # fields from 3 (state) on; comm may hold spaces
        read -r -a f <<<"$rest"
        total=$((total + f[11] + f[12])) # utime, stime (fields 14, 15)
    done
    echo "$total"
}

server_pids() { # server_pids PID: PID and its direct children (nginx workers)
    local children
    echo "$1"
    children=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
    # shellcheck disable=SC2086 # split on purpose: one PID a line
    [[ -n $children ]] && printf '%s\n' $children
    return 0
}

to_ms() { # to_ms 1.23ms|456.00us|1.02s|2.00m -> milliseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

cpu_busy_percent() { # cpu_busy_percent: share of all cores busy over the next second
    local a b
    read -r -a a < <(head -n1 /proc/stat)
    sleep 1
    read -r -a b < <(head -n1 /proc/stat)
    # cpu user nice system idle iowait irq softirq steal ...
    awk -v a="${a[*]:1:8}" -v b="${b[*]:1:8}" 'BEGIN {
        split(a, x); split(b, y); t = 0
        for (i = 1; i <= 8; i++) t += y[i] - x[i]
        idle = (y[4] - x[4]) + (y[5] - x[5])
        printf "%.0f", (t > 0 ? 100 * (t - idle) / t : 0) }'
}

# start_scratch NAME: makes the run's scratch directory `tmp` and the list
# `pids` of processes it starts; on exit (normal, INT or TERM) every PID in
# `pids` is stopped and `tmp` removed, keeping the exit status.
start_scratch() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-$1.XXXXXX")
    pids=()
    trap stop_scratch EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
stop_scratch() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do stop_pid "$pid" 10; done
    rm -rf "$tmp"
    exit "$rc"
}

# Installs what bench/package-lock.json pins (npm ci), once per lockfile change;
# tools/setup.sh leaves bench/ alone.
ensure_bench_npm() {
    local stamp=$script_dir/node_modules/.wisp-lock-stamp
    if [[ ! -f $stamp ]] || ! cmp -s "$script_dir/package-lock.json" "$stamp"; then
        echo "$bench_name: npm ci in bench/ (once per lockfile change)" >&2
        (cd "$script_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
        cp "$script_dir/package-lock.json" "$stamp"
    fi
}

# wait_for_wisp_api PID OUTFILE: waits for `wisp serve` (PID, writing its banner
# to OUTFILE) to print its OpenWhisk address, and sets `api` to it.
wait_for_wisp_api() {
    local pid=$1 out=$2
    api=
    for _ in $(seq 100); do
        api=$(grep -o 'OpenWhisk API  http://[0-9.]*:[0-9]*' "$out" 2>/dev/null | grep -o 'http://.*' || true)
        [[ -n $api ]] && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; die "wisp exited during start-up"; }
        sleep 0.1
    done
    cat "$out" >&2
    die "wisp did not print its API address"
}

# write_invoke_lua FILE AUTH: a wrk script that POSTs a small JSON body with
# AUTH (user:key) as Basic credentials: a blocking invoke per request.
write_invoke_lua() {
    cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = '{"name":"bench"}'
wrk.headers["Authorization"] = "Basic $(printf '%s' "$2" | base64 -w0)"
wrk.headers["Content-Type"] = "application/json"
EOF
}

# wrk_rate_p50 URL CONNECTIONS [LUA]: one wrk run of DURATION (one thread per
# 8 connections); prints "REQ_PER_SEC P50_MS NON2XX".
wrk_rate_p50() {
    local url=$1 conns=$2 script=${3:-} threads out rps p50 errors
    threads=$(( conns / 8 )); (( threads >= 1 )) || threads=1
    out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency ${script:+-s "$script"} "$url")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    echo "$rps $p50 ${errors:-0}"
}

# cold_starts ACTION_FILE PAUSE BODY: times SAMPLES=COLD_SAMPLES cold starts of
# one guest action `cold` on $api: before each, the action is PUT again (a new
# version is a new process), PAUSE seconds pass (a stem cell taken by the last
# sample is replaced), then one blocking invoke with BODY is timed from request
# to result. Prints "P50_MS INIT_P50_MS MAX_MS".
cold_starts() {
    python3 - "$api" "$AUTH" "$1" "$COLD_SAMPLES" "$2" "$3" <<'EOF'
import base64, http.client, json, statistics, sys, time, urllib.parse
api, auth, action_file, samples, pause, payload = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6].encode()
u = urllib.parse.urlparse(api)
headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
           "Content-Type": "application/json"}
body = open(action_file, "rb").read()
conn = http.client.HTTPConnection(u.hostname, u.port)
def call(method, path, data):
    conn.request(method, path, data, headers)
    r = conn.getresponse()
    return r.status, r.read()
times, inits = [], []
for _ in range(samples):
    status, out = call("PUT", "/api/v1/namespaces/_/actions/cold?overwrite=true", body)
    assert status == 200, (status, out)
    time.sleep(pause)  # a benchmark's pause, not a wait for a condition
    start = time.perf_counter()
    status, out = call("POST", "/api/v1/namespaces/_/actions/cold?blocking=true", payload)
    times.append((time.perf_counter() - start) * 1000)
    assert status == 200, (status, out)
    record = json.loads(out)
    init = [a["value"] for a in record.get("annotations", []) if a["key"] == "initTime"]
    assert init, "not a cold start: no initTime"
    inits.append(init[0])
print(f"{statistics.median(times):.3f} {statistics.median(inits)} {max(times):.3f}")
EOF
}
