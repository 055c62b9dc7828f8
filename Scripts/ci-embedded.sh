#!/usr/bin/env bash
# Embedded Swift CI for FlashKVS (issues 6 and 21), called by .ci/run; the
# one entry point for the Embedded checks:
#   1. build check: the core in Embedded mode (-Osize) for armv7em, armv6m
#      and riscv32 with Sources/EmbeddedSmoke (every public generic API),
#      the Docs/PORTING.md driver example, a canary proving that a planted
#      violation fails the check, a host build of EmbeddedSmoke, and an
#      audit that the smoke file reaches every public generic API;
#   2. the self-tests on three QEMU boards:
#      - mps2-an386 (Cortex-M4, armv7em): the store over RAM-backed flash,
#        power cuts, no heap after init;
#      - microbit (nRF51822, Cortex-M0, armv6m): the nRF51 NVMC driver, the
#        store on the top pages of the internal flash within 16 KiB of RAM;
#      - riscv32 virt: the CFI NOR driver on QEMU's pflash (image files),
#        the store over RAM-backed 4 KiB sectors, and the pflash image-file
#        runs once the core accepts 256 KiB sectors;
#   3. the footprint report and its budget (code <= 13000 B for
#      init+put+get+delete on armv7em, RAM <= 1000 B for 50 keys, 8 sectors,
#      redundancy 2); FLASHKVS_SKIP_BUDGET=1 turns a budget failure into a
#      warning.
# Each board prints `self-test passed on <board>: ...`; the summary at the
# end repeats those lines and the per-board figures (code, RAM, stack).
# Installs QEMU (qemu-system-arm, qemu-system-misc) and the arm-none-eabi
# toolchain with apt-get when missing. Fails (non-zero exit) on any error;
# takes about two minutes on 2 cores.
#
# usage: Scripts/ci-embedded.sh
set -euo pipefail
scripts="$(cd "$(dirname "$0")" && pwd)"
source "$scripts/embedded-env.sh"
start=$SECONDS

"$scripts/embedded-check.sh" --canary --host
"$scripts/embedded-audit.sh"
"$scripts/embedded-selftest.sh"
"$scripts/embedded-microbit.sh"
"$scripts/embedded-riscv.sh" | tee "$EMBEDDED_OUT/riscv-run.txt"
# A budget failure is reported after the summary.
footprint_status=0
"$scripts/embedded-footprint.sh" || footprint_status=$?

embedded_heading "Embedded CI summary"
for board in mps2-an386 microbit riscv-virt; do
    grep -m 1 '^self-test passed on' "$EMBEDDED_OUT/$board/selftest.txt"
done
cat "$EMBEDDED_OUT/mps2-an386/figures.txt" "$EMBEDDED_OUT/microbit/figures.txt" "$EMBEDDED_OUT/riscv-virt/figures.txt"
grep -m 1 -E '^(pflash image-file runs: NOT RUN|host read:)' "$EMBEDDED_OUT/riscv-run.txt" || true
echo "footprint budget: $(cat "$EMBEDDED_OUT/mps2-an386/budget.txt" 2>/dev/null || echo "OVER (failed)")"
if [ "$footprint_status" != 0 ]; then
    printf '\n== Embedded CI FAILED: the footprint step (%ds)\n' $((SECONDS - start))
    exit "$footprint_status"
fi
printf '\n== Embedded CI passed (%ds)\n' $((SECONDS - start))
