# Shared settings and helpers of the Embedded Swift scripts (source it).
#
# Builds follow how a firmware project consumes FlashKVS: the core is one
# module (FlashKVS), compiled once per target; the smoke file, the QEMU
# self-test and the footprint programs are client modules that import it.
# In Embedded mode the generic code of the core is specialized and compiled
# in the client, so a client that uses every public generic API makes every
# Embedded-rule violation in the core a compile error.

EMBEDDED_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMBEDDED_OUT="${EMBEDDED_OUT:-$EMBEDDED_ROOT/.build-embedded}"
# The core's sources. Point EMBEDDED_CORE_DIR at a modified copy to measure
# a proposed core change without touching the tree.
EMBEDDED_CORE_DIR="${EMBEDDED_CORE_DIR:-$EMBEDDED_ROOT/Sources/FlashKVS}"

if command -v swiftc >/dev/null 2>&1; then
    SWIFTC="$(command -v swiftc)"
else
    SWIFTC=/opt/swift/usr/bin/swiftc
fi

# Flags of every Embedded compile: Swift 6, whole-module, size-optimized;
# one section per function so the linker's --gc-sections drops unused code.
EMBEDDED_SWIFT_FLAGS=(
    -swift-version 6 -enable-experimental-feature Embedded -wmo -parse-as-library -Osize
    -Xfrontend -function-sections -Xfrontend -disable-stack-protector -suppress-warnings
)

# Cortex-M4F as on QEMU mps2-an386 (the C side must match Swift's armv7em ABI).
ARM_CPU_FLAGS=(-mcpu=cortex-m4 -mthumb -mfloat-abi=softfp -mfpu=fpv4-sp-d16)

# Targets the build check compiles for.
EMBEDDED_TRIPLES=(armv7em-none-none-eabi armv6m-none-none-eabi riscv32-none-none-eabi)

# Prints a section heading.
embedded_heading() { printf '\n== %s\n' "$*"; }

# The core's sources, from EMBEDDED_CORE_DIR or from `$1` (a copy).
embedded_core_sources() {
    find "${1:-$EMBEDDED_CORE_DIR}" -name '*.swift' | LC_ALL=C sort
}

# embedded_build_core TRIPLE OUT_DIR [SOURCE_DIR]
# Compiles the core as module FlashKVS: OUT_DIR/FlashKVS.swiftmodule and
# OUT_DIR/FlashKVS.o. Fails with the compiler's diagnostics.
embedded_build_core() {
    local triple="$1" out="$2" sources="${3:-}"
    mkdir -p "$out"
    local files
    mapfile -t files < <(embedded_core_sources "$sources")
    "$SWIFTC" -target "$triple" "${EMBEDDED_SWIFT_FLAGS[@]}" -module-name FlashKVS \
        -emit-module -emit-module-path "$out/FlashKVS.swiftmodule" \
        -c "${files[@]}" -o "$out/FlashKVS.o"
}

# embedded_build_client TRIPLE OUT_DIR MODULE_NAME SOURCE...
# Compiles a client module against the modules in OUT_DIR (it emits its own
# module too, so later clients can import it): OUT_DIR/MODULE_NAME.o.
embedded_build_client() {
    local triple="$1" out="$2" name="$3"
    shift 3
    "$SWIFTC" -target "$triple" "${EMBEDDED_SWIFT_FLAGS[@]}" -enable-experimental-feature Extern \
        -module-name "$name" -I "$out" \
        -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -c "$@" -o "$out/$name.o"
}

# embedded_code_bytes OBJECT: bytes of code (all TEXT sections) in an object
# file, for any target (before linking, so unused functions still count).
embedded_code_bytes() {
    "$(dirname "$SWIFTC")/llvm-objdump" -h "$1" | awk '
        function hex(h,   i, n) { n = 0; h = tolower(h)
            for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            return n }
        $NF == "TEXT" { total += hex($3) } END { print total + 0 }'
}

# Installs QEMU and the bare-metal ARM toolchain when one is missing
# (Debian packages; needs root, as on CI).
embedded_ensure_arm_tools() {
    local missing=0
    command -v qemu-system-arm >/dev/null 2>&1 || missing=1
    command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing=1
    command -v arm-none-eabi-size >/dev/null 2>&1 || missing=1
    if [ "$missing" = 0 ]; then
        local rdimon
        rdimon="$(arm-none-eabi-gcc "${ARM_CPU_FLAGS[@]}" -print-file-name=librdimon.a)"
        [ -f "$rdimon" ] || missing=1
    fi
    [ "$missing" = 0 ] && return 0
    echo "installing qemu-system-arm and the arm-none-eabi toolchain (apt-get)"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi >/dev/null
}

# embedded_run_qemu ELF: runs firmware on QEMU mps2-an386; semihosting
# carries its output and exit status (134 when it trapped).
embedded_run_qemu() {
    timeout -k 10 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$1"
}

# Installs QEMU for riscv32 when missing (Debian's qemu-system-misc; the
# Swift toolchain's clang and ld.lld build and link the firmware).
embedded_ensure_riscv_tools() {
    command -v qemu-system-riscv32 >/dev/null 2>&1 && return 0
    echo "installing qemu-system-misc (apt-get)"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq qemu-system-misc >/dev/null
}

# embedded_board_figures BOARD ELF OUTPUT: the per-board figures line from
# a board self-test's output ("store heap N B (...)", "stack deepest N B").
embedded_board_figures() {
    local board="$1" elf="$2" output="$3" heap stack
    heap="$(grep -m 1 '^self-test passed on' "$output" | grep -oE 'store heap [0-9]+ B \([^)]*\)' | sed 's/^store heap //')"
    stack="$(grep -m 1 '^self-test passed on' "$output" | grep -oE 'stack deepest [0-9]+ B' | grep -oE '[0-9]+')"
    printf 'figures on %s: code %d B (text of the whole self-test firmware: store, driver, tests, runtime), RAM %s, stack deepest %d B\n' \
        "$board" "$(arm-none-eabi-size "$elf" | awk 'NR == 2 { print $1 }')" "$heap" "$stack"
}

# CMake (>= 3.29 for Embedded Swift: whole-module builds, CMP0157) and
# Ninja. Debian 12's cmake is 3.25, so both come from PyPI into a virtual
# environment under EMBEDDED_OUT (pip; nothing is installed system-wide).
EMBEDDED_TOOLS="${EMBEDDED_TOOLS:-$EMBEDDED_OUT/tools}"
embedded_ensure_cmake() {
    if [ -x "$EMBEDDED_TOOLS/bin/cmake" ] && [ -x "$EMBEDDED_TOOLS/bin/ninja" ]; then return 0; fi
    echo "installing cmake and ninja from PyPI into $EMBEDDED_TOOLS (pip)"
    mkdir -p "$EMBEDDED_OUT"
    python3 -m venv "$EMBEDDED_TOOLS"
    "$EMBEDDED_TOOLS/bin/pip" install -q 'cmake>=3.29' ninja
}

# embedded_cmake_build BOARD BUILD_DIR TARGET... : configures Embedded/
# (Embedded/CMakeLists.txt) for BOARD in BUILD_DIR, with the core from
# EMBEDDED_CORE_DIR and the extra cache settings in EMBEDDED_CMAKE_ARGS,
# and builds the targets (firmware ELF files, written to BUILD_DIR).
embedded_cmake_build() {
    local board="$1" build="$2"
    shift 2
    embedded_ensure_cmake
    mkdir -p "$build"
    if ! PATH="$EMBEDDED_TOOLS/bin:$PATH" "$EMBEDDED_TOOLS/bin/cmake" -S "$EMBEDDED_ROOT/Embedded" -B "$build" -G Ninja \
        -DFLASHKVS_BOARD="$board" -DCMAKE_Swift_COMPILER="$SWIFTC" -DCMAKE_MAKE_PROGRAM="$EMBEDDED_TOOLS/bin/ninja" \
        -DFLASHKVS_CORE_DIR="$EMBEDDED_CORE_DIR" "${EMBEDDED_CMAKE_ARGS[@]}" >"$build/configure.log" 2>&1; then
        cat "$build/configure.log"
        return 1
    fi
    local status=0
    "$EMBEDDED_TOOLS/bin/ninja" -C "$build" --quiet "$@" >"$build/build.log" 2>&1 || status=$?
    grep -v -e 'uses 32-bit enums yet the output' "$build/build.log" || true
    [ "$status" = 0 ] || { echo "FAIL  the CMake build of $* for $board (log: $build/build.log)"; return 1; }
    local target
    for target in "$@"; do
        [ -f "$build/$target" ] || { echo "FAIL  CMake did not build $target for $board"; return 1; }
    done
}
