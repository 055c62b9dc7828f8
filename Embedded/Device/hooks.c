// Runtime hooks for FlashKVS firmware on newlib (QEMU mps2-an386 and
// microbit): what newlib lacks for Embedded Swift, and the instrumentation
// the self-tests and the footprint measurement read (Embedded/Device/Device.swift):
// - heap accounting: the linker wraps malloc, calloc, realloc, free and
//   posix_memalign (-Wl,--wrap=NAME) so every allocation is counted;
// - stack painting: fill unused stack with a pattern, later find the
//   deepest word that was overwritten.
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// Called by newlib's startup paths; nothing to do here.
void _init(void) {}
void _fini(void) {}

// newlib's arc4random_buf (Swift's Hasher seed) reads this. NOT random: a
// real device feeds a hardware RNG here. FlashKVS itself never hashes with
// Hasher, so the store does not call it.
int getentropy(void *buffer, size_t length) {
  static uint32_t state = 0x12345678u;
  for (size_t i = 0; i < length; i++) {
    state ^= state << 13; state ^= state >> 17; state ^= state << 5;
    ((uint8_t *)buffer)[i] = (uint8_t)state;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Heap accounting. Swift's runtime allocates with posix_memalign (objects,
// arrays, buffers) and frees with free.

static struct {
  uint32_t allocations;     // successful malloc/calloc/realloc/posix_memalign calls
  uint32_t requestedBytes;  // bytes asked for by those calls
  uint32_t frees;           // free calls with a non-null pointer
} heap;

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
void __real_free(void *pointer);

// The sizes of the first allocations after kvs_heap_log_start(), to show
// what an initializer allocates.
#define HEAP_LOG_CAPACITY 32
static uint32_t heap_log[HEAP_LOG_CAPACITY];
static uint32_t heap_log_first = UINT32_MAX;

static void count_allocation(void *pointer, size_t size) {
  if (!pointer) return;
  uint32_t position = heap.allocations - heap_log_first;
  if (heap.allocations >= heap_log_first && position < HEAP_LOG_CAPACITY) heap_log[position] = (uint32_t)size;
  heap.allocations++;
  heap.requestedBytes += size;
}

void *__wrap_malloc(size_t size) {
  void *pointer = __real_malloc(size);
  count_allocation(pointer, size);
  return pointer;
}

void *__wrap_calloc(size_t count, size_t size) {
  void *pointer = __real_calloc(count, size);
  count_allocation(pointer, count * size);
  return pointer;
}

void *__wrap_realloc(void *pointer, size_t size) {
  void *result = __real_realloc(pointer, size);
  count_allocation(result, size);
  return result;
}

void __wrap_free(void *pointer) {
  if (pointer) heap.frees++;
  __real_free(pointer);
}

// newlib has memalign but no posix_memalign.
int __wrap_posix_memalign(void **result, size_t alignment, size_t size) {
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  void *pointer = memalign(alignment, size);
  if (!pointer) return ENOMEM;
  count_allocation(pointer, size);
  *result = pointer;
  return 0;
}

uint32_t kvs_heap_allocations(void) { return heap.allocations; }
uint32_t kvs_heap_requested_bytes(void) { return heap.requestedBytes; }
uint32_t kvs_heap_frees(void) { return heap.frees; }
// Bytes newlib's allocator has handed out, its chunk overhead included.
uint32_t kvs_heap_in_use(void) { return (uint32_t)mallinfo().uordblks; }
void kvs_heap_log_start(void) { heap_log_first = heap.allocations; }
// Size of the `index`-th allocation since kvs_heap_log_start() (0 if not logged).
uint32_t kvs_heap_log_size(uint32_t index) {
  return index < HEAP_LOG_CAPACITY && heap_log_first + index < heap.allocations ? heap_log[index] : 0;
}

// Keeps a result alive so the optimizer cannot drop the code computing it.
volatile uint32_t kvs_sink_value;
void kvs_sink(uint32_t value) { kvs_sink_value ^= value; }

// ---------------------------------------------------------------------------
// Stack painting. kvs_stack_paint() fills `bytes` of the free stack below
// its caller's stack pointer with a pattern; after the code under test ran,
// kvs_stack_used() returns how far below that point the stack reached.
// Both must be called from the same function (same stack pointer).

#define STACK_PATTERN 0xC5A5C5A5u
static uint32_t *paint_top;
static uint32_t *paint_bottom;

// The lowest address the stack may reach, where the linker script defines
// it (small parts: painting must stop there, not in the heap).
extern uint32_t __stack_limit __attribute__((weak));

__attribute__((noinline)) void kvs_stack_paint(uint32_t bytes) {
  uint32_t *sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  paint_top = sp;
  paint_bottom = sp - bytes / 4;
  if (&__stack_limit && paint_bottom < &__stack_limit) paint_bottom = &__stack_limit;
  for (volatile uint32_t *word = paint_bottom; word < sp; ++word) *word = STACK_PATTERN;
}

__attribute__((noinline)) uint32_t kvs_stack_used(void) {
  uint32_t *word = paint_bottom;
  while (word < paint_top && *word == STACK_PATTERN) ++word;
  return (uint32_t)((uintptr_t)paint_top - (uintptr_t)word);
}

// Bytes the heap has taken from the system (newlib's arena): its high-water mark.
uint32_t kvs_heap_peak(void) { return (uint32_t)mallinfo().arena; }
