// The device side of the QEMU programs: heap and stack instrumentation
// from Embedded/Device/startup.c, and failing by trapping.

@_extern(c, "kvs_heap_allocations") func kvs_heap_allocations() -> UInt32
@_extern(c, "kvs_heap_requested_bytes") func kvs_heap_requested_bytes() -> UInt32
@_extern(c, "kvs_heap_frees") func kvs_heap_frees() -> UInt32
@_extern(c, "kvs_heap_in_use") func kvs_heap_in_use() -> UInt32
@_extern(c, "kvs_heap_log_start") func kvs_heap_log_start()
@_extern(c, "kvs_heap_log_size") func kvs_heap_log_size(_ index: UInt32) -> UInt32
@_extern(c, "kvs_flash_region") func kvs_flash_region() -> UnsafeMutablePointer<UInt8>
@_extern(c, "kvs_flash_region_size") func kvs_flash_region_size() -> UInt32
@_extern(c, "kvs_sink") func kvs_sink(_ value: UInt32)
@_extern(c, "kvs_stack_paint") func kvs_stack_paint(_ bytes: UInt32)
@_extern(c, "kvs_stack_used") func kvs_stack_used() -> UInt32

/// A snapshot of the heap counters (every malloc, calloc, realloc,
/// posix_memalign and free is counted by the startup code).
struct HeapSnapshot {
    var allocations: Int
    var requestedBytes: Int
    var frees: Int
    /// Bytes the allocator has handed out, including its chunk overhead.
    var inUse: Int

    static var now: HeapSnapshot {
        HeapSnapshot(allocations: Int(kvs_heap_allocations()), requestedBytes: Int(kvs_heap_requested_bytes()),
                     frees: Int(kvs_heap_frees()), inUse: Int(kvs_heap_in_use()))
    }

    /// What happened between `earlier` and this snapshot.
    func since(_ earlier: HeapSnapshot) -> HeapSnapshot {
        HeapSnapshot(allocations: allocations - earlier.allocations,
                     requestedBytes: requestedBytes - earlier.requestedBytes,
                     frees: frees - earlier.frees, inUse: inUse - earlier.inUse)
    }
}

/// Stack bytes that `body` used below the caller's frame, measured by
/// painting 32 KiB of free stack and finding the deepest overwritten word.
/// Includes the closure call itself (a few words).
@inline(never)
func measureStack<Failure: Error>(_ body: () throws(Failure) -> Void) throws(Failure) -> Int {
    kvs_stack_paint(32 * 1024)
    try body()
    return Int(kvs_stack_used())
}

/// Prints `message` and traps (QEMU exits with status 134).
func fail(_ message: String, line: UInt = #line) -> Never {
    print("FAIL (line \(line)): \(message)")
    fatalError()
}
