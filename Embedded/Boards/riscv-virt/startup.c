// Startup and runtime for FlashKVS firmware on QEMU `virt` (riscv32,
// -bios none), without a C library: the entry point, a trap handler, exit
// through the SiFive test device (status 0 on success, 134 on a trap, as
// on the ARM boards), putchar to the NS16550 UART, the heap Embedded Swift
// allocates from (with the accounting Embedded/Device/Device.swift reads),
// memcpy/memset/memmove/memcmp, the 64-bit shift and division helpers the
// compiler calls on rv32, stack painting, and the RAM region that stands in
// for flash in the RAM-backed tests.
#include <stddef.h>
#include <stdint.h>

extern uint8_t __bss_start[], __bss_end[], __heap_start[], __heap_end[], __stack_top[], __stack_limit[];
extern volatile uint32_t __kvs_run_mode;
extern int main(int argc, char **argv);

#define TEST_DEVICE ((volatile uint32_t *)0x100000)
#define UART ((volatile uint8_t *)0x10000000)

__attribute__((noreturn)) void kvs_exit(int status) {
  *TEST_DEVICE = status == 0 ? 0x5555 : ((uint32_t)status << 16) | 0x3333;
  for (;;) __asm volatile("wfi");
}

// A trap (a Swift trap is an illegal instruction) ends QEMU with status 134.
__attribute__((interrupt("machine"), aligned(4))) void kvs_trap(void) { kvs_exit(134); }

__attribute__((noreturn)) void kvs_start(void) {
  for (uint8_t *byte = __bss_start; byte < __bss_end; ++byte) *byte = 0;
  __asm volatile("csrw mtvec, %0" ::"r"(kvs_trap));
  kvs_exit(main(0, 0));
}

__attribute__((naked, section(".text.start"))) void _start(void) {
  __asm volatile("la sp, __stack_top\n"
                 "j kvs_start\n");
}

int putchar(int c) {
  while ((UART[5] & 0x20) == 0) {}  // LSR.THRE
  UART[0] = (uint8_t)c;
  return c;
}

uint32_t kvs_run_mode(void) { return __kvs_run_mode; }

// ---------------------------------------------------------------------------
// mem* (the compiler calls these for copies and fills; built -fno-builtin).
void *memcpy(void *restrict to, const void *restrict from, size_t count) {
  uint8_t *d = to;
  const uint8_t *s = from;
  if ((((uintptr_t)d | (uintptr_t)s | count) & 3) == 0) {
    for (size_t i = 0; i < count / 4; i++) ((uint32_t *)d)[i] = ((const uint32_t *)s)[i];
    return to;
  }
  for (size_t i = 0; i < count; i++) d[i] = s[i];
  return to;
}
void *memmove(void *to, const void *from, size_t count) {
  uint8_t *d = to;
  const uint8_t *s = from;
  if (d < s) for (size_t i = 0; i < count; i++) d[i] = s[i];
  else for (size_t i = count; i > 0; i--) d[i - 1] = s[i - 1];
  return to;
}
void *memset(void *to, int value, size_t count) {
  uint8_t *d = to;
  for (size_t i = 0; i < count; i++) d[i] = (uint8_t)value;
  return to;
}
int memcmp(const void *a, const void *b, size_t count) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < count; i++) if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

// ---------------------------------------------------------------------------
// 64-bit helpers of the RISC-V ABI that rv32 code calls (compiler-rt's
// names; the toolchain ships no bare-metal compiler-rt).
typedef union { uint64_t all; struct { uint32_t low, high; } s; } dword;
uint64_t __ashldi3(uint64_t a, int b) {
  dword x = {.all = a}, r;
  if (b == 0) return a;
  if (b >= 32) { r.s.low = 0; r.s.high = x.s.low << (b - 32); }
  else { r.s.low = x.s.low << b; r.s.high = (x.s.high << b) | (x.s.low >> (32 - b)); }
  return r.all;
}
uint64_t __lshrdi3(uint64_t a, int b) {
  dword x = {.all = a}, r;
  if (b == 0) return a;
  if (b >= 32) { r.s.high = 0; r.s.low = x.s.high >> (b - 32); }
  else { r.s.high = x.s.high >> b; r.s.low = (x.s.low >> b) | (x.s.high << (32 - b)); }
  return r.all;
}
int64_t __ashrdi3(int64_t a, int b) {
  dword x = {.all = (uint64_t)a}, r;
  if (b == 0) return a;
  if (b >= 32) { r.s.high = (uint32_t)((int32_t)x.s.high >> 31); r.s.low = (uint32_t)((int32_t)x.s.high >> (b - 32)); }
  else { r.s.high = (uint32_t)((int32_t)x.s.high >> b); r.s.low = (x.s.low >> b) | (x.s.high << (32 - b)); }
  return (int64_t)r.all;
}
// Restoring division, one quotient bit per step.
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *remainder) {
  if (d == 0) { __asm volatile("unimp"); }
  uint64_t q = 0, r = 0;
  for (int i = 63; i >= 0; i--) {
    r = (r << 1) | ((n >> i) & 1);
    if (r >= d) { r -= d; q |= (uint64_t)1 << i; }
  }
  if (remainder) *remainder = r;
  return q;
}
uint64_t __udivdi3(uint64_t n, uint64_t d) { return __udivmoddi4(n, d, 0); }
uint64_t __umoddi3(uint64_t n, uint64_t d) { uint64_t r; __udivmoddi4(n, d, &r); return r; }
int64_t __divdi3(int64_t n, int64_t d) {
  int negative = (n < 0) != (d < 0);
  uint64_t q = __udivmoddi4(n < 0 ? -(uint64_t)n : (uint64_t)n, d < 0 ? -(uint64_t)d : (uint64_t)d, 0);
  return negative ? -(int64_t)q : (int64_t)q;
}
int64_t __moddi3(int64_t n, int64_t d) {
  uint64_t r;
  __udivmoddi4(n < 0 ? -(uint64_t)n : (uint64_t)n, d < 0 ? -(uint64_t)d : (uint64_t)d, &r);
  return n < 0 ? -(int64_t)r : (int64_t)r;
}

// ---------------------------------------------------------------------------
// Heap: size classes of powers of two (16 B to 1 MiB), each block with a
// 16-byte header holding its class; freed blocks go back to their class's
// list. Counted as Embedded/Device/hooks.c counts newlib's allocator.
#define HEADER 16u
#define CLASSES 17
static uint8_t *heap_next = __heap_start;
static void *free_lists[CLASSES];
static struct { uint32_t allocations, requested, frees, in_use; } heap;
#define HEAP_LOG_CAPACITY 32
static uint32_t heap_log[HEAP_LOG_CAPACITY];
static uint32_t heap_log_first = UINT32_MAX;

static int class_of(size_t size) {
  int c = 0;
  while (((size_t)16 << c) < size) c++;
  return c;
}

void *malloc(size_t size) {
  int c = class_of(size ? size : 1);
  if (c >= CLASSES) return 0;
  uint8_t *block;
  if (free_lists[c]) {
    block = free_lists[c];
    free_lists[c] = *(void **)block;
  } else {
    size_t total = HEADER + ((size_t)16 << c);
    if (heap_next + total > __heap_end) return 0;
    block = heap_next + HEADER;
    heap_next += total;
  }
  ((uint32_t *)block)[-1] = (uint32_t)c;
  uint32_t position = heap.allocations - heap_log_first;
  if (heap.allocations >= heap_log_first && position < HEAP_LOG_CAPACITY) heap_log[position] = (uint32_t)size;
  heap.allocations++;
  heap.requested += size;
  heap.in_use += HEADER + (16u << c);
  return block;
}

void free(void *pointer) {
  if (!pointer) return;
  int c = (int)((uint32_t *)pointer)[-1];
  heap.frees++;
  heap.in_use -= HEADER + (16u << c);
  *(void **)pointer = free_lists[c];
  free_lists[c] = pointer;
}

// Blocks are 16-byte aligned; larger alignments are not needed here.
int posix_memalign(void **result, size_t alignment, size_t size) {
  if (alignment > 16) return 22;  // EINVAL
  void *pointer = malloc(size);
  if (!pointer) return 12;  // ENOMEM
  *result = pointer;
  return 0;
}

uint32_t kvs_heap_allocations(void) { return heap.allocations; }
uint32_t kvs_heap_requested_bytes(void) { return heap.requested; }
uint32_t kvs_heap_frees(void) { return heap.frees; }
uint32_t kvs_heap_in_use(void) { return heap.in_use; }
uint32_t kvs_heap_peak(void) { return (uint32_t)(heap_next - __heap_start); }
void kvs_heap_log_start(void) { heap_log_first = heap.allocations; }
uint32_t kvs_heap_log_size(uint32_t index) {
  return index < HEAP_LOG_CAPACITY && heap_log_first + index < heap.allocations ? heap_log[index] : 0;
}

// A 64 KiB region of RAM for the RAM-backed flash of the store tests.
__attribute__((aligned(16))) static uint8_t flash_region[64 * 1024];
uint8_t *kvs_flash_region(void) { return flash_region; }
uint32_t kvs_flash_region_size(void) { return sizeof flash_region; }

volatile uint32_t kvs_sink_value;
void kvs_sink(uint32_t value) { kvs_sink_value ^= value; }

// Stack painting, as in Embedded/Device/hooks.c.
#define STACK_PATTERN 0xC5A5C5A5u
static uint32_t *paint_top, *paint_bottom;
__attribute__((noinline)) void kvs_stack_paint(uint32_t bytes) {
  uint32_t *sp;
  __asm volatile("mv %0, sp" : "=r"(sp));
  paint_top = sp;
  paint_bottom = sp - bytes / 4;
  if (paint_bottom < (uint32_t *)__stack_limit) paint_bottom = (uint32_t *)__stack_limit;
  for (volatile uint32_t *word = paint_bottom; word < sp; ++word) *word = STACK_PATTERN;
}
__attribute__((noinline)) uint32_t kvs_stack_used(void) {
  uint32_t *word = paint_bottom;
  while (word < paint_top && *word == STACK_PATTERN) ++word;
  return (uint32_t)((uintptr_t)paint_top - (uintptr_t)word);
}

// ---------------------------------------------------------------------------
// Soft-float double helpers and arc4random_buf. Swift's Dictionary sizes
// its table with Double arithmetic and seeds its hasher with random bytes;
// the only Dictionary here is in RAMFlash's fault injection (in the core:
// its class metadata keeps it linked), which this firmware never runs. So
// they are stubs: should anything call one, it traps, and the run fails
// instead of computing garbage. (libgcc from Debian's
// gcc-riscv64-unknown-elf would provide the real ones.)
#define UNSUPPORTED(name) void name(void) { __asm volatile("unimp"); }
UNSUPPORTED(__eqdf2) UNSUPPORTED(__gtdf2) UNSUPPORTED(__ltdf2) UNSUPPORTED(__gedf2) UNSUPPORTED(__ledf2)
UNSUPPORTED(__fixdfsi) UNSUPPORTED(__floatsidf) UNSUPPORTED(__muldf3) UNSUPPORTED(__divdf3)
UNSUPPORTED(__adddf3) UNSUPPORTED(__subdf3) UNSUPPORTED(__unorddf2) UNSUPPORTED(__floatunsidf)
UNSUPPORTED(ceil) UNSUPPORTED(arc4random_buf)  // Hasher seeding: Set and Dictionary only
