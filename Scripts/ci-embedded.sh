#!/usr/bin/env bash
# Embedded Swift CI for FlashKVS (issue 6), called by .ci/run:
#   1. build check: the core in Embedded mode (-Osize) for armv7em, armv6m
#      and riscv32 with Sources/EmbeddedSmoke (every public generic API),
#      the Docs/PORTING.md driver example, a canary proving that a planted
#      violation fails the check, a host build of EmbeddedSmoke, and an
#      audit that the smoke file reaches every public generic API;
#   2. the self-test on QEMU mps2-an386 (Cortex-M4), including power cuts
#      and a no-heap-after-init check;
#   3. the footprint report (code size, RAM, stack).
# Installs QEMU and the arm-none-eabi toolchain (apt-get) when missing.
# Fails (non-zero exit) on any error; takes about a minute on 2 cores.
#
# usage: Scripts/ci-embedded.sh
set -euo pipefail
scripts="$(cd "$(dirname "$0")" && pwd)"
start=$SECONDS

"$scripts/embedded-check.sh" --canary --host
"$scripts/embedded-audit.sh"
"$scripts/embedded-selftest.sh"
"$scripts/embedded-footprint.sh"

printf '\n== Embedded CI passed (%ds)\n' $((SECONDS - start))
