# Sourced by the bench/*.sh scripts: the wisp binary, --help, --json FILE,
# die() and stop_pid(). Each script sets nothing before sourcing but `set -euo pipefail`.

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
