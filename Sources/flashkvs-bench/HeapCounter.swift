// Counts heap allocations by replacing the C allocator's entry points.
//
// The executable defines `malloc`, `calloc`, `realloc`, `posix_memalign`,
// `aligned_alloc` and `memalign`; the dynamic linker binds every caller in
// the process (the Swift runtime, libc, the store) to these definitions,
// which count the call and the bytes requested and forward to glibc's own
// implementation (`__libc_malloc` and friends), so `free` stays glibc's.
// This is the documented way of replacing malloc in glibc ("Replacing
// malloc" in the glibc manual); the counting costs two additions per call.
//
// The counters are plain globals: the benchmark is single-threaded and
// reads them only around its measured phases.
//
// Compiled only with -DFLASHKVS_BENCH_MALLOC_COUNTER, which
// Scripts/bench-build.sh passes together with the linker flags that export
// these symbols (without the export they would not see the libraries'
// allocations). Other builds report the heap as not counted.
#if FLASHKVS_BENCH_MALLOC_COUNTER

@_silgen_name("__libc_malloc")
private func libcMalloc(_ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_calloc")
private func libcCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_realloc")
private func libcRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_memalign")
private func libcMemalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer?

nonisolated(unsafe) private var allocationCalls = 0
nonisolated(unsafe) private var allocatedBytes = 0
/// Set by `malloc` itself: proof that this process's allocations reach the
/// counting entry points (false if the linker did not export them).
nonisolated(unsafe) private var interposed = false

@_cdecl("malloc")
public func countingMalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    allocationCalls &+= 1
    allocatedBytes &+= size
    interposed = true
    return libcMalloc(size)
}

@_cdecl("calloc")
public func countingCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCalls &+= 1
    allocatedBytes &+= count &* size
    return libcCalloc(count, size)
}

@_cdecl("realloc")
public func countingRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCalls &+= 1
    allocatedBytes &+= size
    return libcRealloc(pointer, size)
}

@_cdecl("memalign")
public func countingMemalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCalls &+= 1
    allocatedBytes &+= size
    return libcMemalign(alignment, size)
}

@_cdecl("aligned_alloc")
public func countingAlignedAlloc(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCalls &+= 1
    allocatedBytes &+= size
    return libcMemalign(alignment, size)
}

@_cdecl("posix_memalign")
public func countingPosixMemalign(
    _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int
) -> Int32 {
    let pointerSize = MemoryLayout<UnsafeRawPointer>.size
    guard alignment >= pointerSize, alignment % pointerSize == 0, alignment & (alignment - 1) == 0 else {
        return 22  // EINVAL
    }
    allocationCalls &+= 1
    allocatedBytes &+= size
    guard let pointer = libcMemalign(alignment, size) else { return 12 }  // ENOMEM
    result.pointee = pointer
    return 0
}

#endif

/// Allocation counts of the whole process since it started.
struct HeapCounter: Equatable {
    /// Calls of malloc, calloc, realloc and the aligned allocators.
    var calls: Int
    /// Bytes those calls requested.
    var bytes: Int

    /// The counts now (zero when not counted). Allocates nothing.
    static var now: HeapCounter {
        #if FLASHKVS_BENCH_MALLOC_COUNTER
        HeapCounter(calls: allocationCalls, bytes: allocatedBytes)
        #else
        HeapCounter(calls: 0, bytes: 0)
        #endif
    }

    /// Whether allocations are really counted (the process's mallocs reach
    /// the counting entry points).
    static var isActive: Bool {
        #if FLASHKVS_BENCH_MALLOC_COUNTER
        // Make sure at least one allocation happened through `malloc`.
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 24, alignment: 8)
        probe.deallocate()
        return interposed
        #else
        false
        #endif
    }

    /// The allocations between `earlier` and `self`.
    func since(_ earlier: HeapCounter) -> HeapCounter {
        HeapCounter(calls: calls - earlier.calls, bytes: bytes - earlier.bytes)
    }
}
