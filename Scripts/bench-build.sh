#!/usr/bin/env bash
# Builds flashkvs-bench in release mode and prints the path of the binary.
#
#   Scripts/bench-build.sh                      # .build-bench/release/flashkvs-bench (.build/... in CI)
#   BENCH_SCRATCH=.build-x Scripts/bench-build.sh -Xswiftc -cross-module-optimization
#   BENCH_PACKAGE=/some/copy Scripts/bench-build.sh   # build another copy of the package
#
# The benchmark counts heap allocations by defining malloc & co. itself
# (Sources/flashkvs-bench/HeapCounter.swift, compiled only with
# -DFLASHKVS_BENCH_MALLOC_COUNTER); the linker flags below put those
# definitions in the dynamic symbol table so that every library's
# allocations reach them. A plain `swift build -c release` benchmark runs the
# same but reports the heap as not counted. Extra arguments are passed to
# `swift build` (e.g. compiler flags for an experiment).
set -euo pipefail
cd "${BENCH_PACKAGE:-$(dirname "$0")/..}"
# The scratch path: BENCH_SCRATCH; else, in CI (CI=true: a fresh clone of its
# own), SwiftPM's default .build, where `swift build -c release
# --show-bin-path` points; else .build-bench, apart from the builds of others
# working in the same checkout.
if [ -n "${BENCH_SCRATCH:-}" ]; then
    scratch=$BENCH_SCRATCH
elif [ "${CI:-}" = true ]; then
    scratch=.build
else
    scratch=.build-bench
fi
flags=(-Xswiftc -DFLASHKVS_BENCH_MALLOC_COUNTER)
for symbol in malloc calloc realloc posix_memalign aligned_alloc memalign; do
    flags+=(-Xlinker "--export-dynamic-symbol=$symbol")
done
swift build -c release --scratch-path "$scratch" --product flashkvs-bench "${flags[@]}" "$@" >&2
echo "$(cd "$scratch/release" && pwd)/flashkvs-bench"
