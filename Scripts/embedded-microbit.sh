#!/usr/bin/env bash
# Self-test on QEMU `microbit` (nRF51822, Cortex-M0, armv6m): builds the
# core, the nRF51 NVMC driver (Embedded/Drivers/NRF51Flash.swift) and the
# board self-test for armv6m at -Osize with CMake (Embedded/CMakeLists.txt,
# board microbit), linked with newlib (nano) and
# semihosting (Embedded/Boards/microbit: startup, linker script leaving the
# top 8 flash pages to the store), and runs the firmware. It prints what it
# checked and ends with `self-test passed on microbit ...`; it traps
# (status 134) on the first failure.
#
# usage: Scripts/embedded-microbit.sh
set -euo pipefail
source "$(dirname "$0")/embedded-env.sh"

embedded_ensure_arm_tools
embedded_heading "QEMU self-test (armv6m, Cortex-M0, microbit: nRF51 NVMC driver)"
out="$EMBEDDED_OUT/microbit"
rm -rf "$out"
EMBEDDED_CMAKE_ARGS=()
embedded_cmake_build microbit "$out" selftest.elf
arm-none-eabi-size "$out/selftest.elf" | sed 's/^/  /'

start=$SECONDS
status=0
timeout -k 10 300 qemu-system-arm -M microbit -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$out/selftest.elf" | tee "$out/selftest.txt" || status=$?
if [ "$status" != 0 ] || ! grep -q '^self-test passed on microbit' "$out/selftest.txt"; then
    echo "FAIL  the microbit self-test exited with status $status (134: a check failed or the firmware trapped)"
    exit 1
fi
echo "  (QEMU run: $((SECONDS - start))s)"
embedded_board_figures "microbit (nRF51822, Cortex-M0)" "$out/selftest.elf" "$out/selftest.txt" | tee "$out/figures.txt"
