// Startup for FlashKVS firmware on QEMU `microbit` (nRF51822, Cortex-M0,
// armv6m): vector table, reset handler (copies .data from flash, clears
// .bss, semihosting stdio through newlib's rdimon), the `__atomic_*_4`
// helpers Swift's reference counting needs on armv6m, and where the
// store's flash pages are (nrf51.ld). Heap accounting and stack painting:
// Embedded/Device/hooks.c. A fault (a Swift trap) exits QEMU with status 134.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__, __stack_top;
extern uint8_t __kvs_store_start[], __kvs_store_size[], __firmware_end[];
extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);
extern void _exit(int status);

// Line-buffered stdout in a static buffer (newlib would malloc 1 KiB).
static char stdout_buffer[128];

void Reset_Handler(void) {
  uint32_t *load = &__data_load__;
  for (uint32_t *word = &__data_start__; word < &__data_end__; ++word) *word = *load++;
  for (uint32_t *word = &__bss_start__; word < &__bss_end__; ++word) *word = 0;
  initialise_monitor_handles();
  setvbuf(stdout, stdout_buffer, _IOLBF, sizeof stdout_buffer);
  exit(main(0, 0));
}

static void Fault_Handler(void) { _exit(134); }

__attribute__((section(".vectors"), used))
const void *vector_table[16] = {
  &__stack_top, Reset_Handler,
  Fault_Handler, Fault_Handler, 0, 0, 0,  // NMI, HardFault (armv6m has no other faults)
  0, 0, 0, 0,
  Fault_Handler, 0, 0, Fault_Handler, Fault_Handler,  // SVC, PendSV, SysTick
};

// The flash pages the linker script leaves to the store.
uint32_t kvs_store_start(void) { return (uint32_t)(uintptr_t)__kvs_store_start; }
uint32_t kvs_store_size(void) { return (uint32_t)(uintptr_t)__kvs_store_size; }
// End of the firmware in flash (code, read-only data, .data's initial values).
uint32_t kvs_firmware_end(void) { return (uint32_t)(uintptr_t)__firmware_end; }
// RAM: .data + .bss, and the stack reserved by the linker script.
extern uint8_t end[], __stack_limit[];
uint32_t kvs_static_ram(void) { return (uint32_t)((uintptr_t)end - 0x20000000u); }
uint32_t kvs_stack_reserved(void) { return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)__stack_limit); }

// armv6-M has no exclusive loads and stores: Swift's reference counting
// calls these. Single core: atomic by masking interrupts (PRIMASK).
static inline uint32_t irq_save(void) {
  uint32_t mask;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(mask)::"memory");
  return mask;
}
static inline void irq_restore(uint32_t mask) { __asm volatile("msr primask, %0" ::"r"(mask) : "memory"); }
uint32_t __atomic_load_4(const volatile void *p, int order) { (void)order; return *(const volatile uint32_t *)p; }
void __atomic_store_4(volatile void *p, uint32_t value, int order) { (void)order; *(volatile uint32_t *)p = value; }
uint32_t __atomic_fetch_add_4(volatile void *p, uint32_t value, int order) {
  (void)order;
  uint32_t mask = irq_save(), old = *(volatile uint32_t *)p;
  *(volatile uint32_t *)p = old + value;
  irq_restore(mask);
  return old;
}
uint32_t __atomic_fetch_sub_4(volatile void *p, uint32_t value, int order) {
  (void)order;
  uint32_t mask = irq_save(), old = *(volatile uint32_t *)p;
  *(volatile uint32_t *)p = old - value;
  irq_restore(mask);
  return old;
}
bool __atomic_compare_exchange_4(volatile void *p, void *expected, uint32_t desired, bool weak, int success,
                                 int failure) {
  (void)weak; (void)success; (void)failure;
  uint32_t mask = irq_save(), current = *(volatile uint32_t *)p;
  bool exchanged = current == *(uint32_t *)expected;
  if (exchanged) *(volatile uint32_t *)p = desired; else *(uint32_t *)expected = current;
  irq_restore(mask);
  return exchanged;
}
