#!/usr/bin/env bash
# Coverage audit of Sources/EmbeddedSmoke: lists the public APIs of the
# core's generic code that the smoke file does not instantiate. Embedded
# Swift compiles generic code only where a client specializes it, so an
# API the smoke file misses is not checked by the Embedded build check.
#
# How: in a COPY of the core, plants an Embedded violation (`any Error`) in
# the body of every public function, initializer and computed property of
# the generic types (KeyValueStore and everything nested in it,
# FlashPartition) and of every public generic function; compiles the smoke
# file once for armv7em and reads which planted lines the compiler
# rejected. Takes a few seconds; Scripts/ci-embedded.sh runs it.
#
# usage: Scripts/embedded-audit.sh
set -euo pipefail
source "$(dirname "$0")/embedded-env.sh"

embedded_heading "Audit: which public generic APIs does Sources/EmbeddedSmoke reach?"
audit="$EMBEDDED_OUT/audit"
rm -rf "$audit"
mkdir -p "$audit/src"
core="$audit/src/FlashKVS"
cp -R "$EMBEDDED_CORE_DIR" "$core"

# Files whose declarations live in a generic type.
mapfile -t generic_files < <(cd "$core" && grep -l -E 'extension KeyValueStore|class KeyValueStore|struct FlashPartition' \
    $(find . -name '*.swift' | LC_ALL=C sort) | sed 's|^\./||')
# Files with public generic functions outside those types.
mapfile -t other_files < <(cd "$core" && grep -l -E 'public (static |mutating )*func [A-Za-z_]+<' \
    $(find . -name '*.swift' | LC_ALL=C sort) | sed 's|^\./||')

# plant FILE ALL: marks each planted declaration with `// AUDIT:<line>` and
# writes "<file>:<declaration line>:<declaration>" to the list. With ALL=0
# only generic functions are planted. Declarations listed in
# $audit/excluded.txt ("file:line", non-generic code) are left alone.
plant() {
    local file="$1" all="$2"
    awk -v file="$file" -v all="$all" -v list="$audit/planted.txt" -v excludedList="$audit/excluded.txt" \
        -v returnsList="$audit/returns.txt" '
        BEGIN { while ((getline entry < excludedList) > 0) excluded[entry] = 1
                while ((getline entry < returnsList) > 0) returns[entry] = 1 }
        function record(line, text) { sub(/^[ \t]+/, "", text); print file ":" line ":" text >> list }
        {
            line = $0
            if (addReturn) {
                # The body was a single expression: it must now be returned.
                sub(/^[ \t]*/, "&return ", line)
                addReturn = 0
            }
            if (pending) {
                print line
                if (line ~ /\{[ \t]*$/) {
                    print "        let auditViolation: any Error = KVSError.unknown; _ = auditViolation // AUDIT:" pendingLine
                    addReturn = (file ":" pendingLine) in returns
                    pending = 0
                }
                next
            }
            isDeclaration = line ~ /^[ \t]*(@[A-Za-z]+ )*public (static |mutating |convenience |override )*(func|init|var|subscript)[ (<]/ \
                && line !~ /public (static )?(let|var) [A-Za-z_]+ *=/ && line !~ /^[ \t]*public var [A-Za-z_]+: [^{]*$/ \
                && !((file ":" NR) in excluded)
            isGeneric = line ~ /public (static |mutating )*func [A-Za-z_]+</
            if (isDeclaration && (all == 1 || isGeneric)) {
                if (line ~ /\}[ \t]*$/) {
                    # One-line body `{ expression }`: `{ violation; return expression }`.
                    if (match(line, /\{ .* \}[ \t]*$/) && line !~ /\{ *get/) {
                        body = substr(line, RSTART + 2)
                        sub(/[ \t]*\}[ \t]*$/, "", body)
                        print substr(line, 1, RSTART - 1) "{ let auditViolation: any Error = KVSError.unknown; _ = auditViolation; return " body " } // AUDIT:" NR
                        record(NR, line)
                    } else {
                        print line   # empty body: nothing to instantiate
                    }
                    next
                }
                print line
                record(NR, line)
                if (line ~ /\{[ \t]*$/) {
                    print "        let auditViolation: any Error = KVSError.unknown; _ = auditViolation // AUDIT:" NR
                    addReturn = (file ":" NR) in returns
                } else {
                    pending = 1; pendingLine = NR
                }
                next
            }
            print line
        }' "$EMBEDDED_CORE_DIR/$file" > "$core/$file"
}

# Plants, then compiles the core alone: a planted line the core itself
# rejects is non-generic code (always compiled, so always checked):
# exclude it and plant again.
: > "$audit/excluded.txt"
: > "$audit/returns.txt"
out="$audit/out"
for attempt in 1 2 3 4 5 6; do
    rm -rf "$core"
    cp -R "$EMBEDDED_CORE_DIR" "$core"
    : > "$audit/planted.txt"
    for file in "${generic_files[@]}"; do plant "$file" 1; done
    for file in "${other_files[@]}"; do
        printf '%s\n' "${generic_files[@]}" | grep -qx "$file" || plant "$file" 0
    done
    if embedded_build_core armv7em-none-none-eabi "$out" "$core" > "$audit/core.log" 2>&1; then
        break
    fi
    found=0
    while IFS=: read -r path line _ message; do
        file="${path#"$core"/}"
        if [[ "$message" == *"missing return"* ]]; then
            # A single-expression body: the nearest plant above needs `return`.
            marker=$(head -n "$line" "$core/$file" | grep -o 'AUDIT:[0-9]*' | tail -n 1 | cut -d: -f2 || true)
            [ -n "$marker" ] && echo "$file:$marker" >> "$audit/returns.txt" && found=1
            continue
        fi
        marker=$(sed -n "${line}p" "$core/$file" | grep -o 'AUDIT:[0-9]*' | cut -d: -f2 || true)
        if [ -n "$marker" ]; then
            echo "$file:$marker" >> "$audit/excluded.txt"
            found=1
        fi
    done < <(grep -E '^/.*\.swift:[0-9]+:[0-9]+: error:' "$audit/core.log" | LC_ALL=C sort -u)
    if [ "$found" = 0 ] || [ "$attempt" = 6 ]; then
        echo "  the core copy does not compile with the planted lines:"
        grep -E 'error:' "$audit/core.log" | head -n 10
        exit 1
    fi
done
planted=$(wc -l < "$audit/planted.txt")
log="$audit/compile.log"
embedded_build_client armv7em-none-none-eabi "$out" EmbeddedSmoke \
    "$EMBEDDED_ROOT/Sources/EmbeddedSmoke/EmbeddedSmoke.swift" > "$log" 2>&1 || true

# A planted line the compiler rejected is reached by the smoke file.
missing=0
while IFS= read -r entry; do
    file="${entry%%:*}"
    rest="${entry#*:}"
    line="${rest%%:*}"
    declaration="${rest#*:}"
    planted_line=$(grep -n "AUDIT:$line\$" "$core/$file" | head -n 1 | cut -d: -f1)
    if ! grep -q "FlashKVS/$file:$planted_line:" "$log"; then
        echo "  not instantiated: $file:$line  $declaration"
        missing=$((missing + 1))
    fi
done < "$audit/planted.txt"
echo "  $((planted - missing)) of $planted public generic APIs are instantiated by Sources/EmbeddedSmoke"
excluded=$(wc -l < "$audit/excluded.txt")
[ "$excluded" = 0 ] || echo "  ($excluded public declarations in those files are non-generic: the core's own compile checks them)"
if [ "$missing" != 0 ]; then
    echo "  FAIL  call the APIs above in Sources/EmbeddedSmoke/EmbeddedSmoke.swift: until then the Embedded"
    echo "        check cannot see an Embedded-rule violation inside them"
    exit 1
fi
