#!/usr/bin/env bash
# Self-test on QEMU `microbit` (nRF51822, Cortex-M0, armv6m): builds the
# core, the nRF51 NVMC driver (Embedded/Drivers/NRF51Flash.swift) and the
# board self-test for armv6m at -Osize, links them with newlib (nano) and
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
triple=armv6m-none-none-eabi
out="$EMBEDDED_OUT/microbit"
board="$EMBEDDED_ROOT/Embedded/Boards/microbit"
rm -rf "$out"
mkdir -p "$out"
embedded_build_core "$triple" "$out"
embedded_build_client "$triple" "$out" MicrobitSelfTest \
    "$EMBEDDED_ROOT/Embedded/Device/Device.swift" "$EMBEDDED_ROOT/Embedded/Shared/TestData.swift" \
    "$EMBEDDED_ROOT/Embedded/SelfTest/PowerCutFlash.swift" "$EMBEDDED_ROOT/Embedded/Boards/Shared/BoardSelfTest.swift" \
    "$EMBEDDED_ROOT/Embedded/Drivers/NRF51Flash.swift" "$board/MicrobitSelfTest.swift"
cpu=(-mcpu=cortex-m0 -mthumb -mfloat-abi=soft)
arm-none-eabi-gcc "${cpu[@]}" -Os -ffunction-sections -c "$board/startup.c" -o "$out/startup.o"
arm-none-eabi-gcc "${cpu[@]}" -Os -ffunction-sections -c "$EMBEDDED_ROOT/Embedded/Device/hooks.c" -o "$out/hooks.o"
arm-none-eabi-gcc "${cpu[@]}" --specs=nano.specs --specs=rdimon.specs -nostartfiles -T "$board/nrf51.ld" \
    -Wl,--gc-sections -Wl,--no-enum-size-warning -Wl,--no-warn-execstack \
    -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free -Wl,--wrap=posix_memalign \
    -Wl,-Map="$out/selftest.elf.map" "$out/startup.o" "$out/hooks.o" "$out/FlashKVS.o" "$out/MicrobitSelfTest.o" \
    -lm -o "$out/selftest.elf"
arm-none-eabi-size "$out/selftest.elf" | sed 's/^/  /'

start=$SECONDS
status=0
timeout 300 qemu-system-arm -M microbit -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$out/selftest.elf" | tee "$out/selftest.txt" || status=$?
if [ "$status" != 0 ] || ! grep -q '^self-test passed on microbit' "$out/selftest.txt"; then
    echo "FAIL  the microbit self-test exited with status $status (134: a check failed or the firmware trapped)"
    exit 1
fi
echo "  (QEMU run: $((SECONDS - start))s)"
embedded_board_figures "microbit (nRF51822, Cortex-M0)" "$out/selftest.elf" "$out/selftest.txt" | tee "$out/figures.txt"
