#!/usr/bin/env bash
# tools/faults.sh: every fault test of docs/reliability.md, once, with a summary.
#
# Runs, from a built tree (BUILD_DIR, default build):
#   - fault_tests: kill -9 during heavy writes (3 kills), kill -9 of a replication's
#     target, and a full disk (a 24 MB tmpfs; skipped without the right to mount);
#   - durability_tests: 32 writers, kill -9, every 201 there;
#   - the replicator's remote outages (down at first, dropped mid-replication both ways);
#   - the pipeline's Stack Exchange and Slack faults and outages (PipelineFaultTest);
#   - PipelineCrash: kill -9 five times during a 20,000-question ingest (about two
#     minutes; WISP_CRASH_QUESTIONS sets another size).
# Each ends with the integrity check (Database::CheckIntegrity, which `wisp store check`
# runs on a data directory). It prints one line a test with its time, and exits 1 when
# one failed. REPEAT=N runs the quick ones N times (a flake shows up as a failure).
#
#   tools/faults.sh
#   REPEAT=5 tools/faults.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build}
REPEAT=${REPEAT:-1}
cd "$(dirname "$0")/.."
[[ -x $BUILD_DIR/tests/fault_tests ]] || { echo "faults.sh: build first (make build)" >&2; exit 1; }

failed=0
run() { # run BINARY FILTER
    local out start rc=0
    start=$(date +%s.%N)
    out=$("$BUILD_DIR/tests/$1" --gtest_filter="$2" --gtest_repeat="${3:-1}" 2>&1) || rc=$?
    printf '%-8s %6.1f s  %s %s\n' "$([[ $rc == 0 ]] && echo ok || echo FAILED)" \
        "$(echo "$(date +%s.%N) - $start" | bc)" "$1" "$2"
    grep -E '^\[  (SKIPPED|  FAILED) \]|^\[ replication \]|Failure|skip' <<<"$out" | sort -u | head -20 || true
    [[ $rc == 0 ]] || failed=1
}

run fault_tests 'Faults.*' "$REPEAT"
run durability_tests 'Durability.*' "$REPEAT"
run replicator_tests '*RemoteThatIsDownAtFirst*:*MidReplicationDrop*:*OneShotJobFailsAfterItsRetries*' "$REPEAT"
run pipeline_tests 'Faults/PipelineFaultTest.*' "$REPEAT"
run pipeline_crash_tests 'PipelineCrash.*'
exit "$failed"
