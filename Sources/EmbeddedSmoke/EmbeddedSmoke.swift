// Instantiates every public generic API of FlashKVS with concrete types.
//
// Embedded Swift compiles generic code only where it is specialized, so an
// Embedded-rule violation inside a generic core function stays invisible
// until a client uses it. CI (Scripts/ci-embedded.sh) compiles this file
// against the core for armv7em, armv6m and riscv32 in Embedded mode; the
// QEMU self-test also runs it. It builds on the host as a plain library.
//
// When you add a public generic API to the core, call it here.
import FlashKVS

/// Where the smoke run found an unexpected result.
public struct SmokeFailure: Error {
    /// Source line of the failed check, or of the last passed check when
    /// an operation threw.
    public let line: UInt
    /// The store's error, if an operation threw one.
    public let error: KVSError?
}

/// Counts passed checks and remembers the first failed one.
final class SmokeChecks {
    var passed = 0
    var lastLine: UInt = 0
    var failedLine: UInt? = nil

    /// Counts a passed check; for a failed one, records the line and throws.
    func expect(_ condition: Bool, line: UInt = #line) throws(KVSError) {
        lastLine = line
        guard condition else {
            failedLine = line
            throw .cancelled
        }
        passed += 1
    }
}

/// A user-defined flash type (a value type, unlike ``RAMFlash``): NOR rules
/// over a buffer the caller owns. Shows that the store works over any
/// ``FlashMemory``, not only the built-in one.
public struct BufferFlash: FlashMemory {
    public let sectorSize: Int
    public let sectorCount: Int
    public let alignment: Int
    public let erasedByte: UInt8
    let bytes: UnsafeMutableBufferPointer<UInt8>

    /// Flash over `bytes` (not copied; must outlive every store using it).
    public init(bytes: UnsafeMutableBufferPointer<UInt8>, sectorSize: Int, alignment: Int, erasedByte: UInt8 = 0xFF) {
        self.bytes = bytes
        self.sectorSize = sectorSize
        self.sectorCount = bytes.count / sectorSize
        self.alignment = alignment
        self.erasedByte = erasedByte
    }

    public mutating func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        guard address >= 0, address + buffer.count <= bytes.count else { throw .outOfRange }
        for index in 0..<buffer.count { buffer[index] = bytes[address + index] }
    }

    public mutating func write(at address: Int, _ data: Span<UInt8>) throws(KVSError) {
        guard address >= 0, address + data.count <= bytes.count else { throw .outOfRange }
        guard address % alignment == 0, data.count % alignment == 0 else { throw .invalidArgument }
        for index in 0..<data.count where bytes[address + index] != erasedByte { throw .unknown }
        for index in 0..<data.count { bytes[address + index] = data[index] }
    }

    public mutating func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        guard address >= 0, address % sectorSize == 0, address + count * sectorSize <= bytes.count else {
            throw .outOfRange
        }
        for index in address..<(address + count * sectorSize) { bytes[index] = erasedByte }
    }
}

/// A typed value made of plain numbers, for typed get/put.
public struct SmokeCalibration: BitwiseCopyable, Equatable {
    public var gain: Float
    public var offset: Int16
    public var channel: UInt8

    public init(gain: Float, offset: Int16, channel: UInt8) {
        self.gain = gain
        self.offset = offset
        self.channel = channel
    }
}

/// A user-defined checksum: a 32-bit multiplicative hash (not a CRC).
public let smokeCustomChecksum = Checksum.custom(byteCount: 4, initialState: 0x811C_9DC5) { state, bytes, count in
    var state = state
    for index in 0..<count { state = (state ^ UInt32(bytes![index])) &* 0x0100_0193 }
    return state
}

/// Runs every public API once over ``RAMFlash`` and over ``BufferFlash``,
/// with the CRC-16, no-checksum and custom-checksum formats.
/// - Returns: the number of checks that passed.
/// - Throws: where the first check failed.
public func runEmbeddedSmoke() throws(SmokeFailure) -> Int {
    let checks = SmokeChecks()
    do throws(KVSError) {
        try exerciseFormatsAndChecksums(checks)
        try exerciseStore(over: RAMFlash(sectorSize: 512, sectorCount: 4, alignment: 16), checks)
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4 * 512)
        defer { storage.deallocate() }
        storage.initialize(repeating: 0xFF)
        try exerciseStore(over: BufferFlash(bytes: storage, sectorSize: 512, alignment: 16), checks)
        try exerciseRAMFlash(checks)
        try exerciseFormatMigration(checks)
        try exerciseBatches(over: RAMFlash(sectorSize: 512, sectorCount: 4, alignment: 16), checks)
    } catch {
        if let line = checks.failedLine { throw SmokeFailure(line: line, error: nil) }
        throw SmokeFailure(line: checks.lastLine, error: error)
    }
    return checks.passed
}

/// Builds the `n`-th test key, "smoke/N", into `bytes`; returns its length.
private func makeKey(_ n: Int, into bytes: inout InlineArray<16, UInt8>) -> Int {
    let prefix: StaticString = "smoke/"
    var length = 0
    prefix.withUTF8Buffer { buffer in
        for byte in buffer {
            bytes[length] = byte
            length += 1
        }
    }
    bytes[length] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: n % 10)
    return length + 1
}

private func exerciseFormatsAndChecksums(_ checks: SmokeChecks) throws(KVSError) {
    let digits: StaticString = "123456789"
    let crc = digits.withUTF8Buffer { buffer in CRC16.update(CRC16.initial, buffer.span) }
    try checks.expect(crc == 0x29B1)
    let hash = digits.withUTF8Buffer { buffer in KeyHash.of(buffer.span) }
    try checks.expect(hash != 0)
    try checks.expect(KVSError.notFound.rawValue == 5 && KVSError.dataLoss.name.utf8CodeUnitCount == 9)
    let header = EntryHeader(magic: 0x1234_5678, alignmentUnits: 0, keyLength: 3, valueSizeField: 5, transactionID: 7)
    try checks.expect(header.entrySize == 32 && !header.isTombstone && header.alignmentBytes == 16)
    var raw = InlineArray<16, UInt8>(repeating: 0)
    raw[0] = 0x78; raw[1] = 0x56; raw[2] = 0x34; raw[3] = 0x12
    raw[9] = 3; raw[10] = 5; raw[12] = 7
    try checks.expect(EntryHeader(decoding: raw.span) == header)
    try checks.expect(EntryHeader.alignmentUnits(forPartitionAlignment: 32) == 1)
    let format = EntryFormat(magic: 0x1234_5678, checksum: smokeCustomChecksum)
    let parsed = try EntryHeader.parse(raw.span, formats: [format], erasedByte: 0xFF)
    try checks.expect(parsed == header && format.checksumField(for: header, key: raw.span.extracting(0..<3),
                                                                value: raw.span.extracting(3..<8)) != 0)
    let entry = format.encodedEntry(key: raw.span.extracting(0..<3), value: raw.span.extracting(3..<8),
                                    transactionID: 7, alignment: 16)
    try checks.expect(entry.count == 32 && format.verifyEntry(entry.span))
    try checks.expect(smokeCustomChecksum.byteCount == 4 && Checksum.crc16.byteCount == 2 && Checksum.none.byteCount == 0)
    let fault = FlashFault(.write, error: .unavailable, range: (address: 0, length: 16), times: 1, delay: 2)
    try checks.expect(fault.delay == 2 && fault.times == 1)
}

/// The whole store API over one flash type (the generic instantiation).
private func exerciseStore<Flash: FlashMemory>(over flash: Flash, _ checks: SmokeChecks) throws(KVSError) {
    // Three formats: writes use the first, reads accept all three.
    let formats = [
        EntryFormat(magic: 0x5EED_C0DE, checksum: .crc16),
        EntryFormat(magic: 0x0BAD_F00D, checksum: smokeCustomChecksum),
        EntryFormat(magic: 0x00C0_FFEE, checksum: .none),
    ]
    let options = Options(garbageCollectionOnWrite: .oneSector, recovery: .lazy, verifyOnRead: true, verifyOnWrite: true)
    var partition = try FlashPartition(flash, firstSector: 0, sectorCount: 4, alignment: 16, writable: true)
    try partition.eraseAll()
    try checks.expect(try partition.isRegionErased(at: 0, count: partition.size))
    try checks.expect(partition.sectorSize == 512 && partition.erasedByte == 0xFF)
    var probe = InlineArray<16, UInt8>(repeating: 0xA5)
    try partition.write(at: 0, probe.span)
    var readBack = probe.mutableSpan
    try partition.read(at: 0, into: &readBack)
    try partition.erase(at: 0, sectorCount: 1)
    probe[0] = 0

    let store = try KeyValueStore(partition: partition, formats: formats, capacity: 8, maxSectors: 4, redundancy: 2,
                                  options: options)
    try checks.expect(store.state == .notInitialized && !store.isInitialized)
    try store.initialize()
    try checks.expect(store.isInitialized && store.isEmpty && store.count == 0)
    try checks.expect(store.capacity == 8 && store.maxSectors == 4 && store.redundancy == 2)
    try checks.expect(store.primaryFormat.magic == 0x5EED_C0DE && store.maxKeyValueSize == 496)

    // Span keys and values.
    var key = InlineArray<16, UInt8>(repeating: 0)
    let keyLength = makeKey(1, into: &key)
    let keySpan = key.span.extracting(0..<keyLength)
    var value = InlineArray<24, UInt8>(repeating: 0x42)
    try store.put(keySpan, value.span)
    try checks.expect(store.lastWriteCommitted && store.count == 1)
    var buffer = InlineArray<24, UInt8>(repeating: 0)
    var bufferSpan = buffer.mutableSpan
    let fullCount = try store.get(keySpan, into: &bufferSpan)
    try checks.expect(fullCount == 24 && bufferSpan[23] == 0x42)
    let tailCount = try store.get(keySpan, into: &bufferSpan, offset: 20)
    try checks.expect(tailCount == 4)
    try checks.expect(try store.valueSize(keySpan) == 24)
    try checks.expect(try store.value(keySpan).count == 24)

    // Typed values.
    try store.put(keySpan, value: UInt32(0xDEAD_BEEF))
    try checks.expect(try store.get(keySpan, as: UInt32.self) == 0xDEAD_BEEF)
    try store.put("smoke/u8", value: UInt8(7))
    try checks.expect(try store.get("smoke/u8", as: UInt8.self) == 7)
    try store.put("smoke/i64", value: Int64(-5))
    let signed: Int64 = try store.get("smoke/i64")
    try checks.expect(signed == -5)
    let calibration = SmokeCalibration(gain: 1.5, offset: -3, channel: 2)
    try store.put("smoke/cal", value: calibration)
    try checks.expect(try store.get("smoke/cal", as: SmokeCalibration.self) == calibration)

    // String keys, array and span values.
    try store.put("smoke/array", [1, 2, 3])
    try store.put("smoke/span", value.span)
    try checks.expect(try store.get("smoke/array") == [1, 2, 3])
    var small = InlineArray<4, UInt8>(repeating: 0)
    var smallSpan = small.mutableSpan
    let partCount = try store.get("smoke/array", into: &smallSpan, offset: 1)
    try checks.expect(partCount == 2 && smallSpan[0] == 2)
    try checks.expect(try store.valueSize("smoke/span") == 24)
    do {
        _ = try store.get("smoke/span", into: &smallSpan)
        try checks.expect(false)
    } catch .resourceExhausted {}

    // Iteration.
    var present = 0
    for item in store.items {
        var keyBytes = InlineArray<64, UInt8>(repeating: 0)
        var keyOut = keyBytes.mutableSpan
        let length = try store.key(of: item, into: &keyOut)
        let keyArray = store.key(of: item)
        try checks.expect(length > 0 && keyArray.count == length && item.key.count == item.keyCount)
        let firstByte = item.withKey { key in key[0] }
        let hash = try item.withKey { key throws(KVSError) in
            guard key.count > 0 else { throw .dataLoss }
            return KeyHash.of(key)
        }
        try checks.expect(firstByte == UInt8(ascii: "s") && hash != 0)
        do {
            _ = try store.get(item, into: &bufferSpan)
        } catch .resourceExhausted {}
        _ = try store.valueSize(of: item)
        present += 1
    }
    try checks.expect(present == store.count && store.totalEntriesWithDeleted >= present)

    // Delete.
    try store.delete(keySpan)
    try store.delete("smoke/u8")
    do {
        _ = try store.get(keySpan, into: &bufferSpan)
        try checks.expect(false)
    } catch .notFound {}
    try checks.expect(store.count == present - 2)

    // Overwrite until garbage collection runs; maintenance; statistics.
    for round in 0..<40 {
        value[0] = UInt8(truncatingIfNeeded: round)
        try store.put("smoke/span", value.span)
    }
    try checks.expect(store.storageStats.sectorEraseCount > 0 && store.transactionCount > 40)
    try store.partialMaintenance()
    try store.fullMaintenance()
    try store.heavyMaintenance()
    let stats = store.storageStats
    try checks.expect(stats.inUseBytes > 0 && stats.writableBytes > 0 && stats.reclaimableBytes >= 0)
    try checks.expect(stats.corruptSectorsRecovered == 0 && stats.missingRedundantEntriesRecovered == 0)
    try checks.expect(!store.checkForErrors() && !store.errorDetected)
    try checks.expect(store.invariantViolations().isEmpty)
    var validBytes = 0
    for sector in 0..<store.partition.sectorCount {
        let usage = store.usage(ofSector: sector)
        try checks.expect(!usage.isCorrupt && usage.writableBytes + usage.validBytes + usage.reclaimableBytes == 512)
        validBytes += usage.validBytes
    }
    try checks.expect(validBytes == stats.inUseBytes && store.wearLevelingOrigin < 4)
    try checks.expect(store.lastScan == ScanReport() && !store.lastScan.holdsUnindexedData)
    try store.repairDiscardingUnindexedData()
    try checks.expect(store.isInitialized && store.count == count(store))

    // A second store over the same flash (a reboot) finds the same keys.
    let count = store.count
    let rebooted = try KeyValueStore(partition: store.partition, format: formats[0], capacity: 8, redundancy: 2)
    try rebooted.initialize()
    let size = try rebooted.valueSize("smoke/span")
    try checks.expect(rebooted.count == count && size == 24)
    try checks.expect(rebooted.options.verifyOnRead && rebooted.partition.sectorCount == 4)
}

/// The number of keys iteration visits.
private func count<Flash: FlashMemory>(_ store: KeyValueStore<Flash>) -> Int {
    var visited = 0
    for _ in store.items { visited += 1 }
    return visited
}

private func exerciseRAMFlash(_ checks: SmokeChecks) throws(KVSError) {
    let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
    var sixteen = InlineArray<16, UInt8>(repeating: 0x11)
    try flash.write(at: 0, sixteen.span)
    var out = sixteen.mutableSpan
    try flash.read(at: 0, into: &out)
    try checks.expect(flash[0] == 0x11 && flash.size == 512 && flash.contents.count == 512)
    flash[1] = 0x22
    flash.load(sixteen.span, at: 256)
    try checks.expect(flash.counters.writeCalls == 1 && flash.counters.bytesRead == 16)
    flash.inject(FlashFault(.erase, error: .unavailable, times: 1))
    do {
        try flash.erase(at: 0, sectorCount: 1)
        try checks.expect(false)
    } catch .unavailable {}
    flash.removeAllFaults()
    try flash.erase(at: 0, sectorCount: 2)
    try checks.expect(flash.eraseCounts[0] == 1 && flash.counters.sectorsErased == 2)
    flash.resetCounters()
    try checks.expect(flash.counters == RAMFlash.Counters())
    sixteen[0] = 0
}

/// Entries written in an old format stay readable; full maintenance
/// rewrites them in the new primary format.
private func exerciseFormatMigration(_ checks: SmokeChecks) throws(KVSError) {
    let flash = RAMFlash(sectorSize: 512, sectorCount: 4, alignment: 16)
    let old = EntryFormat(magic: 0x0BAD_F00D, checksum: smokeCustomChecksum)
    let plain = EntryFormat(magic: 0x00C0_FFEE, checksum: .none)
    let current = EntryFormat(magic: 0x5EED_C0DE, checksum: .crc16)
    let oldStore = try KeyValueStore(partition: FlashPartition(flash), format: old, capacity: 4)
    try oldStore.initialize()
    try oldStore.put("smoke/old", value: UInt16(0xABCD))
    let plainStore = try KeyValueStore(partition: FlashPartition(flash), formats: [plain, old], capacity: 4)
    try plainStore.initialize()
    try plainStore.put("smoke/plain", value: UInt16(0x1234))
    let store = try KeyValueStore(partition: FlashPartition(flash), formats: [current, old, plain], capacity: 4)
    try store.initialize()
    try checks.expect(try store.get("smoke/old", as: UInt16.self) == 0xABCD)
    try checks.expect(try store.get("smoke/plain", as: UInt16.self) == 0x1234)
    try store.fullMaintenance()
    let migrated = try KeyValueStore(partition: FlashPartition(flash), format: current, capacity: 4)
    try migrated.initialize()
    try checks.expect(try migrated.get("smoke/old", as: UInt16.self) == 0xABCD)
    try checks.expect(try migrated.get("smoke/plain", as: UInt16.self) == 0x1234)
}

/// Atomic batches (issue 22): opt-in before initialize(), every operation of
/// a commit visible after a reboot.
private func exerciseBatches<Flash: FlashMemory>(over flash: Flash, _ checks: SmokeChecks) throws(KVSError) {
    let store = try KeyValueStore(partition: FlashPartition(flash), format: EntryFormat(magic: 0x5EED_C0DE, checksum: .crc16),
                                  capacity: 8, redundancy: 2)
    store.enableBatches()
    try store.initialize()
    try store.put("smoke/gone", [9])
    var key = InlineArray<16, UInt8>(repeating: 0)
    let keyLength = makeKey(2, into: &key)
    let keySpan = key.span.extracting(0..<keyLength)
    let value = InlineArray<8, UInt8>(repeating: 0x17)
    try store.commit { batch throws(KVSError) in
        try batch.put(keySpan, value.span)
        try batch.put("smoke/batch", [1, 2, 3])
        try batch.delete("smoke/gone")
        try batch.delete(keySpan)
        try batch.put(keySpan, value.span)
    }
    let rebooted = try KeyValueStore(partition: store.partition, format: store.primaryFormat, capacity: 8, redundancy: 2)
    rebooted.enableBatches()
    try rebooted.initialize()
    try checks.expect(try rebooted.valueSize(keySpan) == 8 && rebooted.count == 2)
    try checks.expect(try rebooted.get("smoke/batch") == [1, 2, 3])
}
