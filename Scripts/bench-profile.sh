#!/usr/bin/env bash
# Profiles the timed phase of one benchmark run with callgrind (instruction
# counts, not time: stable on a noisy machine) and prints the top functions.
#
#   Scripts/bench-profile.sh --workload read --ops 20000 --sectors 16
#   Scripts/bench-profile.sh --workload update --ops 20000 --keys 10000 --sectors 256 --max-entries 16384
#
# Only the timed phase is collected (WorkloadRunner.timedPhase); the full
# profile is kept in .build-bench/callgrind.out for callgrind_annotate
# (e.g. --inclusive=yes --tree=caller).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(Scripts/bench-build.sh)
symbol=$(nm "$binary" | grep -o '\$s14flashkvs_bench14WorkloadRunnerV10timedPhase[^ ]*' | head -1)
valgrind --tool=callgrind --callgrind-out-file=.build-bench/callgrind.out "--toggle-collect=$symbol" \
    "$binary" "$@" > /dev/null 2> .build-bench/callgrind.log
callgrind_annotate .build-bench/callgrind.out 2>/dev/null | sed -n '/PROGRAM TOTALS/,$p' | head -40 | cut -c1-200
