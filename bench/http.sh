#!/usr/bin/env bash
# bench/http.sh: HTTP throughput of wisp compared with nginx, on loopback.
#
# What it measures:
#   - req/s and p99 latency of `GET /ping` -> "pong" (keep-alive) served by
#       1. nginx (worker_processes auto, `return 200 "pong"`), the baseline
#       2. wisp serve (its OpenWhisk API port, --io-threads $WISP_IO_THREADS)
#     both driven by the same wrk command, after a 2s warm-up each
#   - the ratio wisp req/s / nginx req/s, against the target of 0.8
#   - the CPU each server used during its measured run (100% = one core)
#   - the machine (nproc, CPU model) and the versions of nginx, wrk and wisp
#   - how busy the CPUs were before the servers started (warns above 10%)
#
# How to run it (needs nginx, wrk, curl and python3 on PATH):
#   bench/http.sh                         # 10s per server, 64 connections, 2 wrk threads
#   DURATION=30s CONNECTIONS=128 bench/http.sh
#   bench/http.sh --json /tmp/http.json   # also write the figures as JSON
#
# Knobs (environment):
#   DURATION=10s        wrk -d for the measured run of each server
#   CONNECTIONS=64      wrk -c
#   THREADS=2           wrk -t
#   WARMUP=2s           wrk -d for the warm-up run (0 skips it)
#   WISP_BIN=...        the wisp binary (default: ../build/wisp relative to this script)
#   WISP_IO_THREADS=0   wisp --io-threads (0: one per core, like nginx's `auto`)
#   NGINX_BIN=nginx     the nginx binary
#
# Everything listens on 127.0.0.1 only, on free ports, out of a temp dir that
# is removed on exit; every process the script starts is stopped on exit,
# error or Ctrl-C. Run it on an otherwise idle machine: wrk and the server
# share the same cores.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
WISP_IO_THREADS=${WISP_IO_THREADS:-0}
NGINX_BIN=${NGINX_BIN:-nginx}
TARGET_RATIO=0.8

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_bench_args "$@"

for tool in "$NGINX_BIN" wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $WISP_BIN ]] || die "wisp binary not found at $WISP_BIN (set WISP_BIN)"
WISP_BIN=$(cd "$(dirname "$WISP_BIN")" && pwd)/$(basename "$WISP_BIN")
NGINX_BIN=$(command -v "$NGINX_BIN")

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wisp-bench-http.XXXXXX")
pids=()


cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        # nginx workers are children of the master; TERM to the master stops them.
        stop_pid "$pid" 5
    done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
wait_ready() { # wait_ready NAME PID URL LOG...: poll URL until it says pong, for up to 10s
    local name=$1 pid=$2 url=$3 deadline=$((SECONDS + 10))
    shift 3
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "http.sh: $name exited during start-up; its log:" >&2
            cat "$@" >&2 2>/dev/null || true
            exit 1
        fi
        if [[ $(curl -fsS --max-time 1 "$url" 2>/dev/null || true) == pong ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "http.sh: $name did not answer $url within 10s; its log:" >&2
    cat "$@" >&2 2>/dev/null || true
    exit 1
}

clk_tck=$(getconf CLK_TCK)
wrk_cmd=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$DURATION" --latency)

# bg_wrk OUT ARGS...: run wrk ARGS > OUT in the background and wait for it, so that
# Ctrl-C or TERM reach the traps at once (bash runs traps only after a foreground
# command ends, but `wait` returns early) and cleanup stops wrk too.
bg_wrk() {
    local out=$1 pid
    shift
    wrk "$@" >"$out" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait "$pid"
}

# run_wrk NAME URL PID: warm-up, measured run; sets r_rps r_p99 r_p99_ms r_cpu r_errors
run_wrk() {
    local name=$1 url=$2 pid=$3 out=$tmp/wrk-$1.txt t0 t1 c0 c1 p
    if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
        bg_wrk "$tmp/warmup-$name.txt" "-t$THREADS" "-c$CONNECTIONS" "-d$WARMUP" "$url" ||
            { cat "$tmp/warmup-$name.txt" >&2; die "wrk warm-up against $name failed"; }
    fi
    mapfile -t p < <(server_pids "$pid")
    c0=$(proc_ticks "${p[@]}")
    t0=$(date +%s%N)
    bg_wrk "$out" "${wrk_cmd[@]:1}" "$url" || { cat "$out" >&2; die "wrk against $name failed"; }
    t1=$(date +%s%N)
    c1=$(proc_ticks "${p[@]}")
    r_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    r_p99=$(awk '$1 == "99%" { print $2; exit }' "$out")
    [[ -n $r_rps && -n $r_p99 ]] || { cat "$out" >&2; die "could not parse wrk output for $name"; }
    r_p99_ms=$(to_ms "$r_p99")
    r_cpu=$(awk -v d=$((c1 - c0)) -v hz="$clk_tck" -v ns=$((t1 - t0)) \
        'BEGIN { printf "%.0f", 100 * (d / hz) / (ns / 1e9) }')
    # Socket errors and non-2xx answers make the req/s figure meaningless; keep them visible.
    r_errors=$(grep -E '^ *(Socket errors|Non-2xx)' "$out" | sed 's/^ *//' | paste -sd ';' - || true)
}

# ---------------------------------------------------------------- start servers
# wrk and the servers need every core; anything else running skews the figures.
busy_before=$(cpu_busy_percent)

read -r nginx_port wisp_api_port wisp_couch_port < <(free_ports 3)

nginx_user=
if [[ $(id -u) == 0 ]]; then
    # As root the workers would drop to `nobody`; keep them as the current user.
    nginx_user="user $(id -un) $(id -gn);"
fi
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
$nginx_user
daemon off;
master_process on;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    default_type text/plain;
    keepalive_requests 100000;
    keepalive_timeout 65s;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;

    server {
        listen 127.0.0.1:$nginx_port;
        server_name localhost;
        location /ping {
            return 200 "pong";
        }
    }
}
EOF

# -e: the error log nginx uses before it has read the config (default is under /var/log).
"$NGINX_BIN" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
    >"$tmp/nginx/stderr.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_ready nginx "$nginx_pid" "http://127.0.0.1:$nginx_port/ping" \
    "$tmp/nginx/stderr.log" "$tmp/nginx/error.log"

mkdir -p "$tmp/wisp-data"
"$WISP_BIN" serve --data-dir "$tmp/wisp-data" --bind 127.0.0.1 \
    --api-port "$wisp_api_port" --couch-port "$wisp_couch_port" \
    --io-threads "$WISP_IO_THREADS" --log-level warn >"$tmp/wisp.log" 2>&1 &
wisp_pid=$!
pids+=("$wisp_pid")
wait_ready wisp "$wisp_pid" "http://127.0.0.1:$wisp_api_port/ping" "$tmp/wisp.log"

# ---------------------------------------------------------------- machine and versions
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
cpu_model=${cpu_model:-unknown}
cores=$(nproc)
nginx_version=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //')
wrk_version=$( (wrk --version 2>&1 || true) | awk 'NR == 1 { print $2; exit }')
wrk_version=${wrk_version:-unknown}
wisp_version=$("$WISP_BIN" --version 2>&1 | head -n1)

echo "machine: $cores cores, $cpu_model"
echo "versions: $nginx_version; wrk $wrk_version; $wisp_version"
echo "load: ${wrk_cmd[*]} http://127.0.0.1:PORT/ping (warm-up $WARMUP each)"
echo "wisp: --io-threads $WISP_IO_THREADS; nginx: worker_processes auto"
echo "CPU busy before the servers started: $busy_before%"
if ((busy_before > 10)); then
    echo "warning: the machine is not idle; the figures below are not reliable" >&2
fi
echo

# ---------------------------------------------------------------- measure
run_wrk nginx "http://127.0.0.1:$nginx_port/ping" "$nginx_pid"
nginx_rps=$r_rps nginx_p99=$r_p99 nginx_p99_ms=$r_p99_ms nginx_cpu=$r_cpu nginx_errors=$r_errors
# Stop nginx so its idle workers are not around while wisp is measured.
stop_pid "$nginx_pid" 5

run_wrk wisp "http://127.0.0.1:$wisp_api_port/ping" "$wisp_pid"
wisp_rps=$r_rps wisp_p99=$r_p99 wisp_p99_ms=$r_p99_ms wisp_cpu=$r_cpu wisp_errors=$r_errors

ratio=$(awk -v w="$wisp_rps" -v n="$nginx_rps" 'BEGIN { printf "%.2f", (n > 0 ? w / n : 0) }')
meets=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r + 0 >= t + 0 ? "yes" : "no") }')

printf '%-8s %12s %10s %12s\n' target req/s p99 "server CPU"
printf '%-8s %12s %10s %11s%%\n' nginx "$nginx_rps" "$nginx_p99" "$nginx_cpu"
printf '%-8s %12s %10s %11s%%\n' wisp "$wisp_rps" "$wisp_p99" "$wisp_cpu"
echo
echo "wisp/nginx req/s: $ratio (target $TARGET_RATIO: $meets)"
[[ -z $nginx_errors ]] || echo "nginx errors: $nginx_errors"
[[ -z $wisp_errors ]] || echo "wisp errors: $wisp_errors"

# ---------------------------------------------------------------- JSON
json_str() { # JSON string literal of $1
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}

if [[ -n $json_out ]]; then
    cat >"$json_out" <<EOF
{
  "benchmark": "http /ping",
  "machine": {"nproc": $cores, "cpu_model": $(json_str "$cpu_model")},
  "versions": {"nginx": $(json_str "$nginx_version"), "wrk": $(json_str "$wrk_version"), "wisp": $(json_str "$wisp_version")},
  "load": {"tool": "wrk", "threads": $THREADS, "connections": $CONNECTIONS, "duration": $(json_str "$DURATION"), "warmup": $(json_str "$WARMUP"), "path": "/ping"},
  "results": [
    {"target": "nginx", "requests_per_sec": $nginx_rps, "p99": $(json_str "$nginx_p99"), "p99_ms": $nginx_p99_ms, "server_cpu_percent": $nginx_cpu, "errors": $(json_str "$nginx_errors"), "config": "worker_processes auto"},
    {"target": "wisp", "requests_per_sec": $wisp_rps, "p99": $(json_str "$wisp_p99"), "p99_ms": $wisp_p99_ms, "server_cpu_percent": $wisp_cpu, "errors": $(json_str "$wisp_errors"), "config": $(json_str "--io-threads $WISP_IO_THREADS")}
  ],
  "cpu_busy_before_percent": $busy_before,
  "ratio_wisp_over_nginx": $ratio,
  "target_ratio": $TARGET_RATIO,
  "meets_target": $([[ $meets == yes ]] && echo true || echo false)
}
EOF
    echo "wrote $json_out"
fi
