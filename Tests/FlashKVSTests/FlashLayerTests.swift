import FlashKVS
import Testing

// The flash layer: RAMFlash's NOR rules, counters and fault injection
// (spec 3.8, the reference's fake flash), and FlashPartition's checks
// (spec 3.5).

// MARK: - Helpers (file-private)

/// Reads `count` bytes; returns what the buffer held and the error, if any
/// (an injected read error still transfers the data, spec 3.8).
private func read(_ flash: RAMFlash, at address: Int, count: Int, fill: UInt8 = 0xA5) -> (bytes: [UInt8], error: KVSError?) {
    var bytes = [UInt8](repeating: fill, count: count)
    var error: KVSError? = nil
    do {
        var span = bytes.mutableSpan
        try flash.read(at: address, into: &span)
    } catch let thrown {
        error = thrown
    }
    return (bytes, error)
}

private func write(_ flash: RAMFlash, at address: Int, _ bytes: [UInt8]) throws(KVSError) {
    try flash.write(at: address, bytes.span)
}

private func read(_ partition: inout FlashPartition<RAMFlash>, at address: Int, count: Int) throws(KVSError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xA5, count: count)
    var span = bytes.mutableSpan
    try partition.read(at: address, into: &span)
    return bytes
}

private func write(_ partition: inout FlashPartition<RAMFlash>, at address: Int, _ bytes: [UInt8]) throws(KVSError) {
    try partition.write(at: address, bytes.span)
}

private func pattern(_ count: Int, start: UInt8 = 0) -> [UInt8] {
    (0..<count).map { start &+ UInt8(truncatingIfNeeded: $0) }
}

// MARK: - RAMFlash NOR rules

@Suite("RAMFlash behaves like NOR flash")
struct RAMFlashNORTests {
    @Test func freshFlashIsErasedToFF() {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 4, alignment: 16)
        #expect(flash.size == 1024)
        #expect(flash.erasedByte == 0xFF)
        #expect(flash.contents == [UInt8](repeating: 0xFF, count: 1024))
    }

    @Test func customErasedByteFillsTheFlashAndEraseRestoresIt() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 1, erasedByte: 0x00)
        #expect(flash.contents == [UInt8](repeating: 0x00, count: 128))
        try write(flash, at: 64, [0x11, 0x22])
        try flash.erase(at: 64, sectorCount: 1)
        #expect(flash.contents == [UInt8](repeating: 0x00, count: 128))
    }

    @Test func writeThenReadRoundTrips() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 4, alignment: 16)
        let data = pattern(48, start: 3)
        try write(flash, at: 272, data)
        let result = read(flash, at: 272, count: 48)
        #expect(result.error == nil)
        #expect(result.bytes == data)
        // Neighbouring bytes stay erased.
        #expect(flash[271] == 0xFF)
        #expect(flash[320] == 0xFF)
    }

    @Test func writingOverAProgrammedByteFailsWithUnknownAndWritesNothing() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        try write(flash, at: 16, pattern(16, start: 0x40))
        let before = flash.contents
        // 32 bytes: 16 erased ones followed by the 16 programmed ones.
        #expect(throws: KVSError.unknown) { try write(flash, at: 0, pattern(32)) }
        #expect(flash.contents == before, "a rejected write must not program even the erased bytes")
        // Rewriting the very same bytes is also a write over programmed bytes.
        #expect(throws: KVSError.unknown) { try write(flash, at: 16, pattern(16, start: 0x40)) }
        #expect(flash.contents == before)
    }

    @Test func writingErasedValueBytesOverErasedFlashIsAllowed() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 16)
        try write(flash, at: 0, [UInt8](repeating: 0xFF, count: 16))
        // Still erased, so it can be programmed afterwards.
        try write(flash, at: 0, pattern(16))
        #expect(read(flash, at: 0, count: 16).bytes == pattern(16))
    }

    @Test(arguments: [(address: 8, count: 16), (address: 16, count: 8), (address: 1, count: 1)])
    func misalignedWriteFailsWithInvalidArgument(address: Int, count: Int) {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        #expect(throws: KVSError.invalidArgument) { try write(flash, at: address, pattern(count)) }
        #expect(flash.contents == [UInt8](repeating: 0xFF, count: 512))
    }

    @Test func misalignedEraseFailsWithInvalidArgument() {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        #expect(throws: KVSError.invalidArgument) { try flash.erase(at: 16, sectorCount: 1) }
        #expect(flash.eraseCounts == [0, 0])
    }

    @Test func accessesOutsideTheMemoryFailWithOutOfRange() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        #expect(read(flash, at: 512, count: 1).error == .outOfRange)
        #expect(read(flash, at: 500, count: 16).error == .outOfRange)
        #expect(read(flash, at: -16, count: 16).error == .outOfRange)
        #expect(read(flash, at: 496, count: 16).error == nil, "the last 16 bytes are inside")
        #expect(read(flash, at: 512, count: 0).error == nil, "an empty read at the end is inside")
        #expect(throws: KVSError.outOfRange) { try write(flash, at: 512, pattern(16)) }
        #expect(throws: KVSError.outOfRange) { try write(flash, at: 496, pattern(32)) }
        #expect(throws: KVSError.outOfRange) { try flash.erase(at: 256, sectorCount: 2) }
        #expect(throws: KVSError.outOfRange) { try flash.erase(at: 512, sectorCount: 1) }
        #expect(flash.contents == [UInt8](repeating: 0xFF, count: 512))
        #expect(flash.eraseCounts == [0, 0])
    }

    @Test func eraseResetsExactlyTheGivenSectors() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 4, alignment: 16)
        for sector in 0..<4 { try write(flash, at: sector * 64, pattern(64, start: UInt8(sector))) }
        try flash.erase(at: 64, sectorCount: 2)
        #expect(read(flash, at: 0, count: 64).bytes == pattern(64, start: 0))
        #expect(read(flash, at: 64, count: 128).bytes == [UInt8](repeating: 0xFF, count: 128))
        #expect(read(flash, at: 192, count: 64).bytes == pattern(64, start: 3))
    }

    @Test func rawAccessBypassesNORRules() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 16)
        try write(flash, at: 0, pattern(16))
        flash[3] = 0x99
        flash.load([0xAA, 0xBB].span, at: 62)
        flash.load([0xCC, 0xDD, 0xEE].span, at: 63)  // the byte past the end is ignored
        #expect(flash[3] == 0x99)
        #expect(flash[62] == 0xAA)
        #expect(flash[63] == 0xCC)
        #expect(flash.counters.writeCalls == 1, "raw access is not counted")
    }
}

// MARK: - Counters

@Suite("RAMFlash counts calls, bytes and erases per sector")
struct RAMFlashCounterTests {
    @Test func successfulOperationsAreCountedWithTheirBytes() throws {
        let flash = RAMFlash(sectorSize: 128, sectorCount: 4, alignment: 16)
        try write(flash, at: 0, pattern(32))
        try write(flash, at: 128, pattern(16))
        _ = read(flash, at: 0, count: 7)
        _ = read(flash, at: 100, count: 50)
        _ = read(flash, at: 0, count: 0)
        try flash.erase(at: 128, sectorCount: 2)

        var expected = RAMFlash.Counters()
        expected.writeCalls = 2
        expected.bytesWritten = 48
        expected.readCalls = 3
        expected.bytesRead = 57
        expected.eraseCalls = 1
        expected.sectorsErased = 2
        #expect(flash.counters == expected)
    }

    @Test func rejectedOperationsCountTheCallButMoveNoBytes() throws {
        let flash = RAMFlash(sectorSize: 128, sectorCount: 2, alignment: 16)
        try write(flash, at: 0, pattern(16))
        flash.resetCounters()
        #expect(throws: KVSError.unknown) { try write(flash, at: 0, pattern(16)) }
        #expect(throws: KVSError.invalidArgument) { try write(flash, at: 8, pattern(16)) }
        #expect(read(flash, at: 256, count: 1).error == .outOfRange)
        #expect(throws: KVSError.outOfRange) { try flash.erase(at: 256, sectorCount: 1) }
        #expect(flash.counters.writeCalls == 2)
        #expect(flash.counters.bytesWritten == 0)
        #expect(flash.counters.readCalls == 1)
        #expect(flash.counters.bytesRead == 0)
        #expect(flash.counters.eraseCalls == 1)
        #expect(flash.counters.sectorsErased == 0)
        #expect(flash.eraseCounts == [0, 0])
    }

    @Test func eraseCountsArePerSector() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 4, alignment: 16)
        try flash.erase(at: 128, sectorCount: 1)
        try flash.erase(at: 128, sectorCount: 1)
        try flash.erase(at: 0, sectorCount: 2)
        try flash.erase(at: 64, sectorCount: 3)
        #expect(flash.eraseCounts == [1, 2, 3, 1])
        #expect(flash.counters.sectorsErased == 7)
        #expect(flash.counters.eraseCalls == 4)
    }

    @Test func resetCountersZeroesCountersAndEraseCounts() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 16)
        try write(flash, at: 0, pattern(16))
        _ = read(flash, at: 0, count: 16)
        try flash.erase(at: 0, sectorCount: 2)
        flash.resetCounters()
        #expect(flash.counters == RAMFlash.Counters())
        #expect(flash.eraseCounts == [0, 0])
    }
}

// MARK: - Fault injection

@Suite("FlashFault semantics (spec 3.8)")
struct FlashFaultTests {
    @Test func injectedReadErrorStillFillsTheBuffer() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 16)
        try write(flash, at: 0, pattern(16, start: 7))
        flash.inject(FlashFault(.read, error: .unavailable))
        let result = read(flash, at: 0, count: 16)
        #expect(result.error == .unavailable)
        #expect(result.bytes == pattern(16, start: 7))
        #expect(flash.counters.bytesRead == 16)
    }

    @Test func injectedWriteErrorStillProgramsTheBytes() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 16)
        flash.inject(FlashFault(.write, error: .unavailable, times: 1))
        #expect(throws: KVSError.unavailable) { try write(flash, at: 16, pattern(16, start: 1)) }
        #expect(read(flash, at: 16, count: 16).bytes == pattern(16, start: 1))
        // The bytes are programmed now: writing there again breaks the NOR rule.
        #expect(throws: KVSError.unknown) { try write(flash, at: 16, pattern(16)) }
    }

    @Test func injectedEraseErrorLeavesTheSectorUntouched() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 16)
        try write(flash, at: 64, pattern(16))
        flash.inject(FlashFault(.erase, error: .deadlineExceeded, times: 1))
        #expect(throws: KVSError.deadlineExceeded) { try flash.erase(at: 64, sectorCount: 1) }
        #expect(read(flash, at: 64, count: 16).bytes == pattern(16))
        #expect(flash.eraseCounts == [0, 0])
        try flash.erase(at: 64, sectorCount: 1)
        #expect(read(flash, at: 64, count: 16).bytes == [UInt8](repeating: 0xFF, count: 16))
        #expect(flash.eraseCounts == [0, 1])
    }

    @Test func unconditionalFaultFiresOnEveryOperationOfItsKind() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 16)
        flash.inject(FlashFault(.read, error: .dataLoss))
        for address in [0, 17, 100] { #expect(read(flash, at: address, count: 4).error == .dataLoss) }
        // Writes and erases are not affected by a read fault.
        try write(flash, at: 0, pattern(16))
        try flash.erase(at: 0, sectorCount: 1)
    }

    @Test func timesLimitsHowOftenAFaultFires() {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .aborted, times: 2))
        let errors = (0..<4).map { _ in read(flash, at: 0, count: 1).error }
        #expect(errors == [.aborted, .aborted, nil, nil])
    }

    @Test func timesZeroNeverFires() {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .aborted, times: 0))
        #expect(read(flash, at: 0, count: 1).error == nil)
    }

    @Test func delayLetsOperationsPassBeforeFiring() {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .cancelled, times: 1, delay: 3))
        let errors = (0..<5).map { _ in read(flash, at: 0, count: 1).error }
        #expect(errors == [nil, nil, nil, .cancelled, nil])
    }

    @Test func rangedFaultOnlySeesOverlappingOperations() {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .unavailable, range: (address: 100, length: 4)))
        #expect(read(flash, at: 96, count: 4).error == nil, "ends right before the range")
        #expect(read(flash, at: 104, count: 8).error == nil, "starts right after the range")
        #expect(read(flash, at: 96, count: 5).error == .unavailable, "last byte inside")
        #expect(read(flash, at: 103, count: 1).error == .unavailable, "first byte is the range's last")
        #expect(read(flash, at: 0, count: 256).error == .unavailable, "covers the range")
    }

    @Test func rangedFaultDelayIsNotConsumedByOperationsOutsideItsRange() {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .unavailable, range: (address: 128, length: 16), times: 1, delay: 1))
        #expect(read(flash, at: 0, count: 16).error == nil)
        #expect(read(flash, at: 200, count: 16).error == nil)
        #expect(read(flash, at: 130, count: 2).error == nil, "first overlapping operation consumes the delay")
        #expect(read(flash, at: 0, count: 16).error == nil, "outside the range: does not fire")
        #expect(read(flash, at: 140, count: 2).error == .unavailable)
        #expect(read(flash, at: 140, count: 2).error == nil, "fired its one time")
    }

    @Test func rangedWriteFaultAppliesToWritesInTheRange() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 1, alignment: 16)
        flash.inject(FlashFault(.write, error: .permissionDenied, range: (address: 32, length: 1)))
        try write(flash, at: 0, pattern(32))
        #expect(throws: KVSError.permissionDenied) { try write(flash, at: 32, pattern(16)) }
        try write(flash, at: 48, pattern(16))
    }

    @Test func firstFiringFaultWinsAndLaterFaultsKeepTheirDelay() {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .unavailable, times: 1))
        flash.inject(FlashFault(.read, error: .dataLoss, times: 1, delay: 1))
        // 1: the first fault fires; the second is not evaluated, keeping its delay.
        // 2: the first is spent; the second consumes its delay.
        // 3: the second fires.  4: both are spent.
        let errors = (0..<4).map { _ in read(flash, at: 0, count: 1).error }
        #expect(errors == [.unavailable, nil, .dataLoss, nil])
    }

    @Test func whenTwoFaultsCouldFireTheEarlierInjectedOneDecides() {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .internal, times: 2))
        flash.inject(FlashFault(.read, error: .dataLoss))
        let errors = (0..<3).map { _ in read(flash, at: 0, count: 1).error }
        #expect(errors == [.internal, .internal, .dataLoss])
    }

    @Test func faultsOfAnotherOperationAreNotEvaluated() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 16)
        flash.inject(FlashFault(.write, error: .unavailable, times: 1, delay: 1))
        // Reads and erases neither fire the write fault nor consume its delay.
        _ = read(flash, at: 0, count: 1)
        try flash.erase(at: 0, sectorCount: 1)
        try write(flash, at: 0, pattern(16))
        #expect(throws: KVSError.unavailable) { try write(flash, at: 16, pattern(16)) }
    }

    @Test func rejectedOperationsDoNotReachTheFaults() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 16)
        flash.inject(FlashFault(.write, error: .unavailable, times: 1))
        #expect(throws: KVSError.invalidArgument) { try write(flash, at: 8, pattern(16)) }
        #expect(throws: KVSError.unavailable) { try write(flash, at: 0, pattern(16)) }
    }

    @Test func removeAllFaultsStopsInjection() {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 1, alignment: 1)
        flash.inject(FlashFault(.read, error: .unavailable))
        #expect(read(flash, at: 0, count: 1).error == .unavailable)
        flash.removeAllFaults()
        #expect(read(flash, at: 0, count: 1).error == nil)
    }
}

// MARK: - FlashPartition

@Suite("FlashPartition checks ranges, alignment and permission (spec 3.5)")
struct FlashPartitionTests {
    @Test(arguments: [
        (flash: 1, requested: 0, expected: 1),
        (flash: 16, requested: 0, expected: 16),
        (flash: 16, requested: 4, expected: 16),
        (flash: 16, requested: 16, expected: 16),
        (flash: 16, requested: 64, expected: 64),
        (flash: 1, requested: 24, expected: 24),
        (flash: 8, requested: 24, expected: 24),
    ])
    func alignmentIsTheLargerOfFlashAndRequested(flash flashAlignment: Int, requested: Int, expected: Int) throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 2, alignment: flashAlignment)
        let partition = try FlashPartition(flash, alignment: requested)
        #expect(partition.alignment == expected)
    }

    @Test(arguments: [(flash: 16, requested: 24), (flash: 16, requested: 40), (flash: 32, requested: 48)])
    func alignmentThatIsNotAMultipleOfTheFlashAlignmentIsRejected(flash flashAlignment: Int, requested: Int) {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 2, alignment: flashAlignment)
        #expect(throws: KVSError.invalidArgument) { _ = try FlashPartition(flash, alignment: requested) }
    }

    @Test func negativeAlignmentIsRejected() {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 2, alignment: 16)
        #expect(throws: KVSError.invalidArgument) { _ = try FlashPartition(flash, alignment: -16) }
    }

    @Test func defaultPartitionCoversTheRestOfTheFlash() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 6, alignment: 16)
        let whole = try FlashPartition(flash)
        #expect(whole.firstSector == 0)
        #expect(whole.sectorCount == 6)
        #expect(whole.size == 1536)
        #expect(whole.sectorSize == 256)
        #expect(whole.isWritable)
        let tail = try FlashPartition(flash, firstSector: 2)
        #expect(tail.sectorCount == 4)
        #expect(tail.size == 1024)
    }

    @Test(arguments: [(first: 0, count: 7), (first: 5, count: 2), (first: 7, count: 0), (first: -1, count: 2), (first: 0, count: -1)])
    func sectorsOutsideTheFlashAreRejected(first: Int, count: Int) {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 6, alignment: 16)
        #expect(throws: KVSError.outOfRange) { _ = try FlashPartition(flash, firstSector: first, sectorCount: count) }
    }

    @Test func zeroSectorPartitionIsAllowed() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 1, alignment: 16)
        let partition = try FlashPartition(flash, sectorCount: 0)
        #expect(partition.size == 0)
    }

    @Test func addressesArePartitionRelative() throws {
        let flash = RAMFlash(sectorSize: 128, sectorCount: 4, alignment: 16)
        var partition = try FlashPartition(flash, firstSector: 1, sectorCount: 2)
        try write(&partition, at: 0, pattern(16, start: 1))
        try write(&partition, at: 240, pattern(16, start: 2))
        #expect(flash[128] == 1)
        #expect(flash[128 + 240] == 2)
        #expect(try read(&partition, at: 240, count: 16) == pattern(16, start: 2))
        try partition.erase(at: 128)
        #expect(flash.eraseCounts == [0, 0, 1, 0])
        #expect(flash[128 + 240] == 0xFF)
        #expect(flash[128] == 1)
    }

    @Test func accessesPastThePartitionEndFailWithOutOfRangeEvenInsideTheFlash() throws {
        let flash = RAMFlash(sectorSize: 128, sectorCount: 4, alignment: 16)
        try write(flash, at: 384, pattern(16))
        var partition = try FlashPartition(flash, firstSector: 1, sectorCount: 2)
        #expect(throws: KVSError.outOfRange) { _ = try read(&partition, at: 256, count: 1) }
        #expect(throws: KVSError.outOfRange) { _ = try read(&partition, at: 250, count: 16) }
        #expect(throws: KVSError.outOfRange) { _ = try read(&partition, at: -1, count: 1) }
        #expect(throws: KVSError.outOfRange) { try write(&partition, at: 256, pattern(16)) }
        #expect(throws: KVSError.outOfRange) { try write(&partition, at: 240, pattern(32)) }
        #expect(throws: KVSError.outOfRange) { try partition.erase(at: 128, sectorCount: 2) }
        #expect(throws: KVSError.outOfRange) { try partition.erase(at: 256) }
        #expect(flash.eraseCounts == [0, 0, 0, 0])
        #expect(flash[384] == 0, "the sector after the partition keeps its data")
        #expect(try read(&partition, at: 256, count: 0) == [])
    }

    @Test func writesMustFollowThePartitionAlignment() throws {
        // The flash accepts 16-byte writes; the partition requires 32.
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        var partition = try FlashPartition(flash, alignment: 32)
        #expect(throws: KVSError.invalidArgument) { try write(&partition, at: 16, pattern(32)) }
        #expect(throws: KVSError.invalidArgument) { try write(&partition, at: 32, pattern(16)) }
        try write(&partition, at: 32, pattern(32))
        #expect(flash.counters.writeCalls == 1, "misaligned writes never reach the flash")
    }

    @Test func eraseMustStartAtASectorBoundary() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        var partition = try FlashPartition(flash)
        #expect(throws: KVSError.invalidArgument) { try partition.erase(at: 16) }
        #expect(flash.counters.eraseCalls == 0)
    }

    @Test func readOnlyPartitionRefusesWritesAndErasesButReads() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 2, alignment: 16)
        try write(flash, at: 0, pattern(16))
        var partition = try FlashPartition(flash, writable: false)
        #expect(!partition.isWritable)
        #expect(throws: KVSError.permissionDenied) { try write(&partition, at: 16, pattern(16)) }
        #expect(throws: KVSError.permissionDenied) { try partition.erase(at: 0) }
        #expect(throws: KVSError.permissionDenied) { try partition.eraseAll() }
        // Permission is checked first (spec 3.5), even for bad ranges.
        #expect(throws: KVSError.permissionDenied) { try write(&partition, at: 4096, pattern(16)) }
        #expect(throws: KVSError.permissionDenied) { try partition.erase(at: 4096) }
        #expect(try read(&partition, at: 0, count: 16) == pattern(16))
        #expect(flash.counters.writeCalls == 1)
        #expect(flash.counters.eraseCalls == 0)
    }

    @Test func eraseAllErasesOnlyThePartitionSectors() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 4, alignment: 16)
        for sector in 0..<4 { try write(flash, at: sector * 64, pattern(16)) }
        var partition = try FlashPartition(flash, firstSector: 1, sectorCount: 2)
        try partition.eraseAll()
        #expect(flash.eraseCounts == [0, 1, 1, 0])
        #expect(flash[0] == 0 && flash[192] == 0)
        #expect(flash[64] == 0xFF && flash[128] == 0xFF)
    }

    @Test func flashErrorsPassThroughUnchanged() throws {
        let flash = RAMFlash(sectorSize: 64, sectorCount: 2, alignment: 16)
        var partition = try FlashPartition(flash, firstSector: 1)
        flash.inject(FlashFault(.read, error: .deadlineExceeded, times: 1))
        flash.inject(FlashFault(.erase, error: .aborted, times: 1))
        #expect(throws: KVSError.deadlineExceeded) { _ = try read(&partition, at: 0, count: 4) }
        #expect(throws: KVSError.aborted) { try partition.erase(at: 0) }
        try write(flash, at: 64, pattern(16))
        #expect(throws: KVSError.unknown) { try write(&partition, at: 0, pattern(16)) }
    }

    @Test func isRegionErasedFindsAnyWrittenByte() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 2, alignment: 1)
        var partition = try FlashPartition(flash)
        #expect(try partition.isRegionErased(at: 0, count: 1024))
        #expect(try partition.isRegionErased(at: 1024, count: 0), "an empty region is erased")
        try write(&partition, at: 200, [0x7F])
        #expect(try !partition.isRegionErased(at: 0, count: 1024))
        #expect(try !partition.isRegionErased(at: 200, count: 1))
        #expect(try !partition.isRegionErased(at: 137, count: 64), "written byte in the last chunk position")
        #expect(try !partition.isRegionErased(at: 150, count: 51), "written byte is the region's last")
        #expect(try partition.isRegionErased(at: 0, count: 200), "region ends right before it")
        #expect(try partition.isRegionErased(at: 201, count: 823), "region starts right after it")
        #expect(try partition.isRegionErased(at: 190, count: 5), "region shorter than a chunk")
        #expect(throws: KVSError.outOfRange) { _ = try partition.isRegionErased(at: 0, count: -1) }
        #expect(throws: KVSError.outOfRange) { _ = try partition.isRegionErased(at: 1024, count: 1) }
        #expect(throws: KVSError.outOfRange) { _ = try partition.isRegionErased(at: -16, count: 32) }
    }

    @Test func isRegionErasedTreatsAnyNonErasedValueAsWritten() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 1, alignment: 1)
        flash[255] = 0xFE
        var partition = try FlashPartition(flash)
        #expect(try !partition.isRegionErased(at: 0, count: 256))
        #expect(try partition.isRegionErased(at: 0, count: 255))
    }

    @Test func isRegionErasedReportsRangeAndReadErrors() throws {
        let flash = RAMFlash(sectorSize: 256, sectorCount: 1, alignment: 1)
        var partition = try FlashPartition(flash)
        #expect(throws: KVSError.outOfRange) { _ = try partition.isRegionErased(at: 200, count: 57) }
        flash.inject(FlashFault(.read, error: .unavailable, range: (address: 100, length: 1), times: 1))
        #expect(throws: KVSError.unavailable) { _ = try partition.isRegionErased(at: 0, count: 256) }
        #expect(try partition.isRegionErased(at: 0, count: 256))
    }
}
