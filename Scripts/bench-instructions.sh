#!/usr/bin/env bash
# Instructions per op of the timed phase (callgrind), for a benchmark binary:
# a measure of a change that the shared machine's load cannot move.
#
#   Scripts/bench-instructions.sh BENCH [extra bench flags]
#
# Prints instructions per op for update, read and mixed (20000 ops) and init
# (100 ops) at K=100 on 16 sectors, and for update at K=10000 on 256
# sectors. Compare two builds, e.g. before and after a core change.
set -euo pipefail
binary=$1
shift
symbol=$(nm "$binary" | grep -o '\$s14flashkvs_bench14WorkloadRunnerV10timedPhase[^ ]*' | head -1)
profile=$(mktemp)
trap 'rm -f "$profile"' EXIT

# per_op OPS BENCH_FLAGS...: instructions of the timed phase divided by OPS.
per_op() {
    local ops=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$profile" "--toggle-collect=$symbol" "$binary" "$@" \
        > /dev/null 2>&1
    local total
    total=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    echo $((total / ops))
}

for workload in update read mixed; do
    echo "$workload K=100: $(per_op 20000 --workload "$workload" --ops 20000 --sectors 16 "$@")"
done
echo "init K=100: $(per_op 100 --workload init --ops 100 --sectors 16 "$@")"
echo "update K=10000: $(per_op 20000 --workload update --ops 20000 --keys 10000 --sectors 256 \
    --max-entries 16384 "$@")"
