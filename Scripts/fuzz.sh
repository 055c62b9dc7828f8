#!/usr/bin/env bash
# Fuzzes the store with arbitrary flash images (libFuzzer + AddressSanitizer).
#
#     Scripts/fuzz.sh [SECONDS]     # default 600
#
# Starts from the kept corpus (Tests/FlashKVSTests/FuzzCorpus, replayed by
# `swift test`), merges newly interesting inputs back into it, and fails on
# any crash, memory error or input slower than 10 s (a hang). Findings are
# written to .build-fuzz/crash-* etc.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
out=.build-fuzz
corpus=Tests/FlashKVSTests/FuzzCorpus
mkdir -p "$out/work" "$corpus"

echo "== building the fuzz target (-sanitize=fuzzer,address)"
swiftc -swift-version 6 -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzImage \
    $(find Sources/FlashKVS -name "*.swift" | sort) Sources/FlashKVSStress/ImageFuzzing.swift Fuzz/FuzzImage.swift \
    -o "$out/fuzz-image" 2> >(grep -v "Cannot export local symbol" >&2)

echo "== fuzzing for ${seconds}s"
cp -n "$corpus"/* "$out/work/" 2>/dev/null || true
FLASHKVS_FUZZ_SEEDS="$out/work" "$out/fuzz-image" "$out/work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4200 -artifact_prefix="$out/" -print_final_stats=1 2>&1 | tee "$out/fuzz.log" | grep -E "^#|DONE|ERROR|stat::" || true
if grep -qE "ERROR: |==[0-9]+==|deadly signal|Timeout" "$out/fuzz.log"; then
    echo "fuzz: FINDING (see $out/fuzz.log and $out/crash-*)"
    exit 1
fi

echo "== merging new interesting inputs into $corpus"
"$out/fuzz-image" -merge=1 "$corpus" "$out/work" 2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
echo "corpus: $(ls "$corpus" | wc -l) files"
