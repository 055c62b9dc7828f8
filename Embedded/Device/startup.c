// Startup for FlashKVS firmware on QEMU mps2-an386 (Cortex-M4F), with
// newlib and semihosting (rdimon) for stdio and exit: the vector table, the
// reset handler, and the RAM region that stands in for flash (the mps2
// boards have no programmable flash). The heap accounting and stack
// painting the programs use are in hooks.c, shared with the microbit.
// A fault (a Swift trap is a `udf` instruction) exits QEMU with status 134.
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __bss_start__, __bss_end__, __stack_top;
extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);
extern void _exit(int status);

void Reset_Handler(void) {
  // Enable CP10/CP11 (the FPU): Swift for armv7em emits VFP instructions.
  *(volatile uint32_t *)0xE000ED88 |= (0xFu << 20);
  __asm volatile("dsb\n isb");
  for (uint32_t *word = &__bss_start__; word < &__bss_end__; ++word) *word = 0;
  initialise_monitor_handles();
  exit(main(0, 0));
}

static void Fault_Handler(void) { _exit(134); }

__attribute__((section(".vectors"), used))
const void *vector_table[16] = {
  &__stack_top, Reset_Handler,
  Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,  // NMI .. UsageFault
  0, 0, 0, 0,
  Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,             // SVC .. SysTick
};

// A 64 KiB region of RAM that the footprint programs use as memory-mapped
// flash (QEMU's mps2 boards have no programmable flash).
__attribute__((aligned(16))) static uint8_t flash_region[64 * 1024];
uint8_t *kvs_flash_region(void) { return flash_region; }
uint32_t kvs_flash_region_size(void) { return sizeof flash_region; }
