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
///
/// Power cuts: ``schedulePowerCut(atOperation:interruption:)`` interrupts a
/// future program or erase in a chosen ``Interruption`` state, after which
/// every operation throws `.unavailable` until ``restorePower()``.
public final class RAMFlash: FlashMemory {
    /// Call and byte counts since creation or the last ``resetCounters()``.
    public typealias Counters = FlashCounters

    public let sectorSize: Int
    public let sectorCount: Int
    public let alignment: Int
    public let erasedByte: UInt8
    /// Call and byte counters.
    public private(set) var counters: Counters {
        get { mutable.pointee.counters }
        _modify { yield &mutable.pointee.counters }
    }
    /// Erases per sector since creation or the last ``resetCounters()``.
    public private(set) var eraseCounts: [Int]
    private let storage: UnsafeMutableBufferPointer<UInt8>

    /// The mutable state, allocated once: reached through a pointer, so its
    /// accesses need no dynamic exclusivity checks (class stored properties
    /// do, and in the hot paths they cost more than the work).
    private let mutable: UnsafeMutablePointer<MutableState>

    private struct MutableState {
        var counters: Counters = Counters()
        var faults: [FlashFault] = []
        var mediumOperations: Int = 0
        var lastMediumOperationWasErase: Bool = false
        var isPoweredOff: Bool = false
        var scheduledCut: (operation: Int, interruption: Interruption)?
        var unstableBytes: [Int: (mask: UInt8, flip: Bool)] = [:]
    }
    private var faults: [FlashFault] {
        get { mutable.pointee.faults }
        _modify { yield &mutable.pointee.faults }
    }
    /// Programs and erases that reached the medium (the power-cut clock).
    public private(set) var mediumOperations: Int {
        get { mutable.pointee.mediumOperations }
        _modify { yield &mutable.pointee.mediumOperations }
    }
    /// Whether the last program or erase that reached the medium (or was
    /// cut) was an erase.
    public private(set) var lastMediumOperationWasErase: Bool {
        get { mutable.pointee.lastMediumOperationWasErase }
        _modify { yield &mutable.pointee.lastMediumOperationWasErase }
    }
    /// Whether a power cut happened and power is not restored yet.
    public private(set) var isPoweredOff: Bool {
        get { mutable.pointee.isPoweredOff }
        _modify { yield &mutable.pointee.isPoweredOff }
    }
    private var scheduledCut: (operation: Int, interruption: Interruption)? {
        get { mutable.pointee.scheduledCut }
        _modify { yield &mutable.pointee.scheduledCut }
    }
    /// Bytes with unstable bits: address -> (mask, next read flips them).
    private var unstableBytes: [Int: (mask: UInt8, flip: Bool)] {
        get { mutable.pointee.unstableBytes }
        _modify { yield &mutable.pointee.unstableBytes }
    }

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
        mutable = .allocate(capacity: 1)
        mutable.initialize(to: MutableState())
    }

    deinit {
        storage.deallocate()
        mutable.deinitialize(count: 1)
        mutable.deallocate()
    }

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

    /// Cuts power during the program or erase with index `operation`
    /// (counting from the current ``mediumOperations``), leaving it in
    /// `interruption`'s state (an interruption that does not fit the
    /// operation's kind acts as ``Interruption/applied``).
    public func schedulePowerCut(atOperation operation: Int, interruption: Interruption) {
        scheduledCut = (mediumOperations + operation, interruption)
    }

    /// Ends a power cut (a scheduled one that has not happened yet is
    /// cancelled): the flash works again, with whatever the cut left.
    public func restorePower() {
        isPoweredOff = false
        scheduledCut = nil
    }

    /// Whether the next medium operation is the scheduled cut; consumes it.
    private func cutNow() -> Interruption? {
        guard let cut = scheduledCut, cut.operation == mediumOperations else { return nil }
        scheduledCut = nil
        isPoweredOff = true
        return cut.interruption
    }

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
        guard !isPoweredOff else { throw .unavailable }
        guard address >= 0, address <= storage.count, buffer.count <= storage.count - address else {
            throw .outOfRange
        }
        if buffer.count > 0 {
            let source = UnsafeRawPointer(storage.baseAddress! + address)
            let count = buffer.count
            buffer.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: source, byteCount: count) }
        }
        counters.bytesRead += buffer.count
        if !unstableBytes.isEmpty || !faults.isEmpty { try readFaults(at: address, into: &buffer) }
    }

    /// The faults of a read that moved its bytes: unstable bits flip (and
    /// flip back on the next read), then an injected error is thrown. Out
    /// of line: a test flash without faults reads without this work.
    @inline(never)
    private func readFaults(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        if !unstableBytes.isEmpty {
            for index in 0..<buffer.count {
                guard let unstable = unstableBytes[address + index] else { continue }
                if unstable.flip { buffer[index] ^= unstable.mask }
                unstableBytes[address + index] = (unstable.mask, !unstable.flip)
            }
        }
        if let error = injectedError(.read, address: address, length: buffer.count) { throw error }
    }

    public func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        counters.writeCalls += 1
        guard !isPoweredOff else { throw .unavailable }
        guard address % alignment == 0, bytes.count % alignment == 0 else { throw .invalidArgument }
        guard address >= 0, address <= storage.count, bytes.count <= storage.count - address else {
            throw .outOfRange
        }
        guard isErased(at: address, count: bytes.count) else { throw .unknown }
        lastMediumOperationWasErase = false
        if let interruption = cutNow() {
            mediumOperations += 1
            program(bytes, at: address, interruption: interruption)
            throw .unavailable
        }
        mediumOperations += 1
        if bytes.count > 0 {
            let target = UnsafeMutableRawPointer(storage.baseAddress! + address)
            bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        if !unstableBytes.isEmpty {
            for index in 0..<bytes.count { unstableBytes[address + index] = nil }
        }
        counters.bytesWritten += bytes.count
        if !faults.isEmpty, let error = injectedError(.write, address: address, length: bytes.count) { throw error }
    }

    /// Whether the `count` bytes at `address` (in range) are all erased:
    /// eight bytes per step.
    private func isErased(at address: Int, count: Int) -> Bool {
        let start = UnsafeRawPointer(storage.baseAddress! + address)
        let erasedWord = UInt64(erasedByte) &* 0x0101_0101_0101_0101
        var index = 0
        while index &+ 8 <= count {
            if start.loadUnaligned(fromByteOffset: index, as: UInt64.self) != erasedWord { return false }
            index &+= 8
        }
        while index < count {
            if start.load(fromByteOffset: index, as: UInt8.self) != erasedByte { return false }
            index &+= 1
        }
        return true
    }

    public func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        counters.eraseCalls += 1
        guard !isPoweredOff else { throw .unavailable }
        guard address >= 0, count >= 0, address % sectorSize == 0 else { throw .invalidArgument }
        let first = address / sectorSize
        guard first + count <= sectorCount else { throw .outOfRange }
        if !faults.isEmpty, let error = injectedError(.erase, address: address, length: count * sectorSize) { throw error }
        lastMediumOperationWasErase = true
        let interruption = cutNow()
        mediumOperations += 1
        if interruption == .notApplied { throw .unavailable }
        let end = interruption == .erasePartial ? address + count * sectorSize / 2 : address + count * sectorSize
        for sector in first..<(first + count) { eraseCounts[sector] += 1 }
        for index in address..<end { storage[index] = erasedByte }
        if !unstableBytes.isEmpty {
            // The half an interrupted erase did not reach keeps its instability.
            for index in address..<end { unstableBytes[index] = nil }
        }
        counters.sectorsErased += count
        if interruption != nil { throw .unavailable }
    }

    /// Applies an interrupted program.
    private func program(_ bytes: Span<UInt8>, at address: Int, interruption: Interruption) {
        switch interruption {
        case .notApplied:
            return
        case .applied, .erasePartial:
            for index in 0..<bytes.count { storage[address + index] = bytes[index] }
        case .programPrefix:
            let prefix = alignDown(bytes.count / 2, alignment)
            for index in 0..<prefix { storage[address + index] = bytes[index] }
        case .programPartialBits:
            for index in 0..<bytes.count {
                // Of the bits to clear (0 in the data), clear every other one.
                let toClear = ~bytes[index] & erasedByte
                let cleared = toClear & ((address + index) % 2 == 0 ? 0x55 : 0xAA)
                storage[address + index] = erasedByte & ~cleared
            }
        case .programUnstableBits:
            for index in 0..<bytes.count {
                // The lowest bit to clear stays charged halfway: it reads 1, then 0, then 1...
                let toClear = ~bytes[index] & erasedByte
                let mask = toClear & (0 &- toClear)
                storage[address + index] = bytes[index] | mask
                if mask != 0 { unstableBytes[address + index] = (mask, false) }
            }
        }
    }
}
