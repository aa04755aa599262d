#!/usr/bin/env bash
# bench/web.sh: a hello-world web action of wisp against nginx and Google's functions-framework.
#
# What it measures, on loopback, one server at a time, each with the same wrk command
# (wrk -tTHREADS -cCONNECTIONS -dDURATION --latency, keep-alive, after a WARMUP run):
#   1. nginx (worker_processes auto): `return 200` of {"greeting":"Hello, world!"}
#   2. @google-cloud/functions-framework (npm, pinned in bench/package-lock.json)
#      serving bench/web/hello.js, the same hello function
#   3. `wisp serve --dev`: the C++ SDK example build/examples/actions/hello as a native
#      web action, GET /api/v1/web/guest/default/hello.json?name=world (an activation
#      record is written for each request, as always)
# It prints req/s, p99 and the server's CPU for each, and the ratios against the
# targets: wisp >= 0.6x nginx's req/s, and >= 5x functions-framework's.
#
# How to run it (needs nginx, wrk, node + npm, curl, python3 and a built tree):
#   bench/web.sh
#   DURATION=5s bench/web.sh --json /tmp/web.json
#
# Knobs (environment): DURATION=10s, CONNECTIONS=64, THREADS=2, WARMUP=2s,
# WISP_BIN, HELLO_BIN (default ../build/examples/actions/hello/hello), NGINX_BIN=nginx.
#
# Run it on an otherwise idle machine: wrk and the servers share the cores.
set -euo pipefail
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
NGINX_BIN=${NGINX_BIN:-nginx}
TARGET_NGINX=0.6
TARGET_FF=5
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"
HELLO_BIN=${HELLO_BIN:-$script_dir/../build/examples/actions/hello/hello}

for tool in "$NGINX_BIN" wrk curl python3 node npm base64; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"
[[ -x $HELLO_BIN ]] || die "native example not found at $HELLO_BIN (build the tree, or set HELLO_BIN)"
NGINX_BIN=$(command -v "$NGINX_BIN")
ensure_bench_npm

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-web.XXXXXX")
pids=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do stop_pid "$pid" 5; done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http_200() { # wait_http_200 NAME PID URL LOG: poll URL for up to 15 s
    local deadline=$((SECONDS + 15))
    while ((SECONDS < deadline)); do
        kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$1 exited during start-up"; }
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$3" || true) == 200 ]] && return 0
        sleep 0.1
    done
    cat "$4" >&2
    die "$1 did not answer 200 at $3 within 15 s"
}

clk_tck=$(getconf CLK_TCK)
# measure NAME URL PID: warm-up, then the measured run; sets m_rps m_p99_ms m_cpu m_errors
measure() {
    local name=$1 url=$2 out=$tmp/wrk-$1.txt p c0 c1 t0 t1
    echo "web.sh: $name..." >&2
    if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
        wrk "-t$THREADS" "-c$CONNECTIONS" "-d$WARMUP" "$url" >/dev/null 2>&1 || die "wrk warm-up against $name failed"
    fi
    mapfile -t p < <(server_pids "$3")
    c0=$(proc_ticks "${p[@]}")
    t0=$(date +%s%N)
    wrk "-t$THREADS" "-c$CONNECTIONS" "-d$DURATION" --latency "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk against $name failed"; }
    t1=$(date +%s%N)
    c1=$(proc_ticks "${p[@]}")
    m_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    m_p99_ms=$(to_ms "$(awk '$1 == "99%" { print $2; exit }' "$out")")
    m_cpu=$(awk -v d=$((c1 - c0)) -v hz="$clk_tck" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", 100 * (d / hz) / (ns / 1e9) }')
    m_errors=$(grep -E '^ *(Socket errors|Non-2xx)' "$out" | sed 's/^ *//' | paste -sd ';' - || true)
}

busy_before=$(cpu_busy_percent)
read -r nginx_port ff_port < <(free_ports 2)

# ---------------------------------------------------------------- nginx
nginx_user=
[[ $(id -u) == 0 ]] && nginx_user="user $(id -un) $(id -gn);"
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOC
$nginx_user
daemon off;
master_process on;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location /hello {
            default_type application/json;
            return 200 '{"greeting":"Hello, world!"}';
        }
    }
}
EOC
"$NGINX_BIN" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx/out.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
nginx_url="http://127.0.0.1:$nginx_port/hello?name=world"
wait_http_200 nginx "$nginx_pid" "$nginx_url" "$tmp/nginx/error.log"
measure nginx "$nginx_url" "$nginx_pid"
nginx_rps=$m_rps nginx_p99=$m_p99_ms nginx_cpu=$m_cpu nginx_err=$m_errors
stop_pid "$nginx_pid" 5

# ---------------------------------------------------------------- functions-framework
ff_version=$(node -p "require('$script_dir/node_modules/@google-cloud/functions-framework/package.json').version")
(cd "$script_dir/web" && exec node "$script_dir/node_modules/@google-cloud/functions-framework/build/src/main.js" \
    --target=hello --source=hello.js --port="$ff_port") >"$tmp/ff.log" 2>&1 &
ff_pid=$!
pids+=("$ff_pid")
ff_url="http://127.0.0.1:$ff_port/?name=world"
wait_http_200 functions-framework "$ff_pid" "$ff_url" "$tmp/ff.log"
measure functions-framework "$ff_url" "$ff_pid"
ff_rps=$m_rps ff_p99=$m_p99_ms ff_cpu=$m_cpu ff_err=$m_errors
stop_pid "$ff_pid" 5

# ---------------------------------------------------------------- wisp
AUTH=23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP
"$WISP_BIN" serve --dev --data-dir "$tmp/data" --api-port 0 --couch-port 0 --log-level warn \
    --invocations-per-minute 100000000 --concurrent-invocations 100000 >"$tmp/wisp.out" 2>&1 &
wisp_pid=$!
pids+=("$wisp_pid")
wait_for_wisp_api "$wisp_pid" "$tmp/wisp.out"
python3 - "$HELLO_BIN" >"$tmp/hello.json" <<'EOP'
import base64, json, sys
code = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps({"exec": {"kind": "native", "code": code, "binary": True},
                  "annotations": [{"key": "wait-for-ack", "value": True}, {"key": "web-export", "value": True}]}))
EOP
curl -fsS -o /dev/null -u "$AUTH" -H 'Content-Type: application/json' -X PUT \
    "$api/api/v1/namespaces/_/actions/hello?overwrite=true" --data-binary "@$tmp/hello.json" || die "cannot create the web action"
wisp_url="$api/api/v1/web/guest/default/hello.json?name=world"
wait_http_200 wisp "$wisp_pid" "$wisp_url" "$tmp/wisp.out"
measure wisp "$wisp_url" "$wisp_pid"
wisp_rps=$m_rps wisp_p99=$m_p99_ms wisp_cpu=$m_cpu wisp_err=$m_errors

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
met() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b ? "yes" : "NO") }'; }
vs_nginx=$(ratio "$wisp_rps" "$nginx_rps")
vs_ff=$(ratio "$wisp_rps" "$ff_rps")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); CPUs ${busy_before}% busy before the runs"
((busy_before > 10)) && echo "WARNING: the CPUs were ${busy_before}% busy before the runs; the figures are not trustworthy"
echo "$("$WISP_BIN" --version); $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //'); functions-framework $ff_version; node $(node -v)"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP)"
printf '%-22s %12s %10s %6s  %s\n' server req/s p99_ms CPU errors
printf '%-22s %12s %10s %5s%%  %s\n' nginx "$nginx_rps" "$nginx_p99" "$nginx_cpu" "${nginx_err:--}"
printf '%-22s %12s %10s %5s%%  %s\n' functions-framework "$ff_rps" "$ff_p99" "$ff_cpu" "${ff_err:--}"
printf '%-22s %12s %10s %5s%%  %s\n' "wisp (web action)" "$wisp_rps" "$wisp_p99" "$wisp_cpu" "${wisp_err:--}"
echo "wisp / nginx: $vs_nginx (target >= $TARGET_NGINX: $(met "$vs_nginx" "$TARGET_NGINX"))"
echo "wisp / functions-framework: $vs_ff (target >= $TARGET_FF: $(met "$vs_ff" "$TARGET_FF"))"

if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOJ
{"nginx_rps": $nginx_rps, "functions_framework_rps": $ff_rps, "wisp_rps": $wisp_rps,
 "nginx_p99_ms": $nginx_p99, "functions_framework_p99_ms": $ff_p99, "wisp_p99_ms": $wisp_p99,
 "wisp_vs_nginx": $vs_nginx, "wisp_vs_functions_framework": $vs_ff, "busy_before_percent": $busy_before,
 "connections": $CONNECTIONS, "duration": "$DURATION"}
EOJ
    echo "wrote $json_out"
fi
