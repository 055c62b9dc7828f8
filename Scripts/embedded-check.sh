#!/usr/bin/env bash
# Embedded build check: compiles the FlashKVS core in Embedded mode (-Osize)
# for armv7em, armv6m and riscv32, each with Sources/EmbeddedSmoke, which
# instantiates every public generic API. Any Embedded-rule violation in the
# core fails the compile, and so this script. Also compiles the driver
# example of Docs/PORTING.md for armv7em.
#
# usage: Scripts/embedded-check.sh [--canary] [--host]
#   --canary  also prove the check works: plant violations in a COPY of the
#             core (one in non-generic code, one in a generic store method)
#             and require the compile to fail on each
#   --host    also build the EmbeddedSmoke target on the host (swift build)
set -euo pipefail
source "$(dirname "$0")/embedded-env.sh"

run_canary=0
run_host=0
for argument in "$@"; do
    case "$argument" in
        --canary) run_canary=1 ;;
        --host) run_host=1 ;;
        *) echo "unknown option: $argument" >&2; exit 2 ;;
    esac
done

smoke="$EMBEDDED_ROOT/Sources/EmbeddedSmoke/EmbeddedSmoke.swift"

# check_triple TRIPLE OUT_DIR [CORE_SOURCE_DIR]: core + smoke for one target.
check_triple() {
    local triple="$1" out="$2" sources="${3:-}"
    embedded_build_core "$triple" "$out" "$sources" &&
        embedded_build_client "$triple" "$out" EmbeddedSmoke "$smoke"
}

embedded_heading "Embedded build check: core + EmbeddedSmoke, -Osize"
failed=0
for triple in "${EMBEDDED_TRIPLES[@]}"; do
    out="$EMBEDDED_OUT/check/$triple"
    rm -rf "$out"
    start=$SECONDS
    if check_triple "$triple" "$out"; then
        printf '  ok    %-26s unlinked code: core %6d B + smoke with the specialized store %6d B (%ds)\n' "$triple" \
            "$(embedded_code_bytes "$out/FlashKVS.o")" "$(embedded_code_bytes "$out/EmbeddedSmoke.o")" \
            $((SECONDS - start))
    else
        printf '  FAIL  %s: the core or the smoke file breaks an Embedded Swift rule (errors above)\n' "$triple"
        failed=1
    fi
done
[ "$failed" = 0 ] || exit 1

# The driver example of Docs/PORTING.md must compile against the core.
porting="$EMBEDDED_OUT/check/porting-example"
mkdir -p "$porting"
awk '/^```swift$/ { inside = 1; next } /^```$/ { inside = 0 } inside' "$EMBEDDED_ROOT/Docs/PORTING.md" \
    > "$porting/PortingExample.swift"
if embedded_build_client armv7em-none-none-eabi "$EMBEDDED_OUT/check/armv7em-none-none-eabi" PortingExample \
    "$porting/PortingExample.swift"; then
    printf '  ok    %-26s Docs/PORTING.md example driver (%d lines) compiles\n' armv7em-none-none-eabi \
        "$(wc -l < "$porting/PortingExample.swift")"
else
    echo "  FAIL  the Swift code of Docs/PORTING.md does not compile (errors above)"
    exit 1
fi

if [ "$run_canary" = 1 ]; then
    embedded_heading "Canary: a planted violation must fail the check (in a copy of the core)"
    canary="$EMBEDDED_OUT/canary"
    violation='let plantedViolation: any Error = KVSError.unknown; _ = plantedViolation'

    # plant_and_check NAME FILE_PATTERN LINE_PATTERN: copies the core, inserts
    # the violation after the first line matching LINE_PATTERN (an opening
    # brace of a function) in the first file matching FILE_PATTERN, and
    # expects the armv7em check to fail with that violation as the cause.
    plant_and_check() {
        local name="$1" file_pattern="$2" line_pattern="$3"
        local copy="$canary/$name/Sources"
        rm -rf "$canary/$name"
        mkdir -p "$copy"
        cp -R "$EMBEDDED_CORE_DIR" "$copy/FlashKVS"
        local target
        target="$(find "$copy/FlashKVS" -path "$file_pattern" | LC_ALL=C sort | head -n 1)"
        local line
        line="$(grep -n -E "$line_pattern" "$target" | head -n 1 | cut -d: -f1 || true)"
        if [ -z "$line" ]; then
            echo "  FAIL  canary '$name': no line matching /$line_pattern/ in $file_pattern to plant into"
            return 1
        fi
        sed -i "${line}a\\        $violation" "$target"
        local log="$canary/$name/compile.log"
        if check_triple armv7em-none-none-eabi "$canary/$name/out" "$copy/FlashKVS" >"$log" 2>&1; then
            echo "  FAIL  canary '$name': the compile accepted 'any Error' in ${target#"$copy"/}:$((line + 1))"
            return 1
        fi
        if ! grep -q "plantedViolation\|any Error\|existential" "$log"; then
            echo "  FAIL  canary '$name': the compile failed, but not on the planted line:"
            sed 's/^/        /' "$log" | head -n 20
            return 1
        fi
        local reported
        reported="$(grep -m 1 -E 'error:' "$log" | sed -e "s|$copy/||" -e 's/^ *//')"
        echo "  ok    canary '$name' rejected as expected: $reported"
    }

    canary_failed=0
    # Non-generic code: compiled with the core itself.
    plant_and_check non-generic '*/Format/CRC16.swift' 'static func update\(.*\{$' || canary_failed=1
    # Generic code: only compiled where the smoke file specializes it.
    plant_and_check generic '*/Store/KeyValueStore+Write.swift' 'public func put\(_ key: Span<UInt8>, _ value: Span<UInt8>\).*\{$' ||
        canary_failed=1
    [ "$canary_failed" = 0 ] || exit 1
fi

if [ "$run_host" = 1 ]; then
    embedded_heading "Host build of the EmbeddedSmoke target (swift build)"
    start=$SECONDS
    log="$EMBEDDED_OUT/host-build.log"
    mkdir -p "$EMBEDDED_OUT"
    if (cd "$EMBEDDED_ROOT" && swift build --scratch-path .build-embedded-host --target EmbeddedSmoke) >"$log" 2>&1; then
        printf '  ok    EmbeddedSmoke builds on the host (%ds)\n' $((SECONDS - start))
    else
        grep -E 'error:' "$log" | head -n 20 || tail -n 20 "$log"
        echo "  FAIL  swift build --target EmbeddedSmoke (log: $log)"
        exit 1
    fi
fi
