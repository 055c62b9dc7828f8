/// NOR flash simulated in RAM, for tests, tools and benchmarks.
///
/// Behaves like NOR: erased bytes are `erasedByte` (0xFF); a write to any
/// byte that is not erased fails with `.unknown` and writes nothing; reads,
/// writes and erases outside the memory fail with `.outOfRange`; misaligned
/// writes and erases fail with `.invalidArgument`.
///
/// It counts every call and byte (``Counters``) and every erase per sector,
/// and injects faults (``FlashFault``). As in the reference's fake flash, an
/// injected read or write error is reported *after* the data moved (a read
/// still fills the buffer, a write still programs); an injected erase error
/// leaves the sector untouched.
public final class RAMFlash: FlashMemory {
    /// Call and byte counts since creation or the last ``resetCounters()``.
    public struct Counters: Equatable, Sendable {
        public var readCalls = 0
        public var bytesRead = 0
        public var writeCalls = 0
        public var bytesWritten = 0
        public var eraseCalls = 0
        public var sectorsErased = 0
        public init() {}
    }

    public let sectorSize: Int
    public let sectorCount: Int
    public let alignment: Int
    public let erasedByte: UInt8
    /// Call and byte counters.
    public private(set) var counters = Counters()
    /// Erases per sector since creation or the last ``resetCounters()``.
    public private(set) var eraseCounts: [Int]
    private let storage: UnsafeMutableBufferPointer<UInt8>
    private var faults: [FlashFault] = []

    /// Creates an erased flash of `sectorCount` sectors of `sectorSize` bytes.
    /// A zero or negative geometry is clamped to a usable minimum of 1.
    public init(sectorSize: Int, sectorCount: Int, alignment: Int = 16, erasedByte: UInt8 = 0xFF) {
        self.sectorSize = max(sectorSize, 1)
        self.sectorCount = max(sectorCount, 0)
        self.alignment = max(alignment, 1)
        self.erasedByte = erasedByte
        self.eraseCounts = [Int](repeating: 0, count: max(sectorCount, 0))
        storage = .allocate(capacity: self.sectorSize * self.sectorCount)
        storage.initialize(repeating: erasedByte)
    }

    deinit { storage.deallocate() }

    /// Total bytes.
    public var size: Int { storage.count }

    /// The raw bytes, bypassing NOR rules, counters and faults (for tests
    /// and tools that corrupt or inspect flash behind the store's back).
    public subscript(address: Int) -> UInt8 {
        get { storage[address] }
        set { storage[address] = newValue }
    }

    /// A copy of all bytes.
    public var contents: [UInt8] { Array(storage) }

    /// Overwrites bytes starting at `address` (no NOR rules, no counters);
    /// bytes past the end are ignored.
    public func load(_ bytes: Span<UInt8>, at address: Int = 0) {
        var index = 0
        while index < bytes.count, address + index < storage.count {
            storage[address + index] = bytes[index]
            index += 1
        }
    }

    /// Adds a fault; it applies to operations from now on.
    public func inject(_ fault: FlashFault) { faults.append(fault) }

    /// Removes all injected faults.
    public func removeAllFaults() { faults.removeAll() }

    /// Zeroes the counters and per-sector erase counts.
    public func resetCounters() {
        counters = Counters()
        for index in eraseCounts.indices { eraseCounts[index] = 0 }
    }

    private func injectedError(_ operation: FlashFault.Operation, address: Int, length: Int) -> KVSError? {
        for index in faults.indices where faults[index].operation == operation {
            if let error = faults[index].evaluate(address: address, length: length) { return error }
        }
        return nil
    }

    public func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        counters.readCalls += 1
        guard address >= 0, address <= storage.count, buffer.count <= storage.count - address else {
            throw .outOfRange
        }
        for index in 0..<buffer.count { buffer[index] = storage[address + index] }
        counters.bytesRead += buffer.count
        if let error = injectedError(.read, address: address, length: buffer.count) { throw error }
    }

    public func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        counters.writeCalls += 1
        guard address % alignment == 0, bytes.count % alignment == 0 else { throw .invalidArgument }
        guard address >= 0, address <= storage.count, bytes.count <= storage.count - address else {
            throw .outOfRange
        }
        for index in 0..<bytes.count where storage[address + index] != erasedByte { throw .unknown }
        for index in 0..<bytes.count { storage[address + index] = bytes[index] }
        counters.bytesWritten += bytes.count
        if let error = injectedError(.write, address: address, length: bytes.count) { throw error }
    }

    public func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        counters.eraseCalls += 1
        guard address >= 0, count >= 0, address % sectorSize == 0 else { throw .invalidArgument }
        let first = address / sectorSize
        guard first + count <= sectorCount else { throw .outOfRange }
        if let error = injectedError(.erase, address: address, length: count * sectorSize) { throw error }
        for sector in first..<(first + count) {
            eraseCounts[sector] += 1
            let base = sector * sectorSize
            for index in base..<(base + sectorSize) { storage[index] = erasedByte }
        }
        counters.sectorsErased += count
    }
}
