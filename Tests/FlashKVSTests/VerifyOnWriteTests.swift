import FlashKVS
import Testing

/// Verification on write of new entries (`Options.verifyOnWrite`): each
/// programmed chunk is read back and compared with the bytes meant for it.
/// The flash below programs one byte wrong, silently, as a worn or
/// marginal cell can: the put must notice, write the entry elsewhere, and
/// leave a store that reads the new value now and after a restart.
@Suite("Verification on write")
struct VerifyOnWriteTests {
    /// A RAMFlash that can program one byte of one future write wrong
    /// (bit 0 flipped) and report success.
    final class MisprogrammingFlash: FlashMemory {
        enum Position { case first, middle, last }
        let base: RAMFlash
        private(set) var writes = 0
        private var failingWrite: Int? = nil
        private var position = Position.first

        init(_ base: RAMFlash) { self.base = base }

        /// Misprograms write number `later` from now (0: the next one).
        func misprogram(write later: Int, at position: Position) {
            failingWrite = writes + later
            self.position = position
        }

        var sectorSize: Int { base.sectorSize }
        var sectorCount: Int { base.sectorCount }
        var alignment: Int { base.alignment }
        var erasedByte: UInt8 { base.erasedByte }

        func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
            try base.read(at: address, into: &buffer)
        }

        func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
            defer { writes += 1 }
            guard writes == failingWrite, bytes.count > 0 else { return try base.write(at: address, bytes) }
            var wrong = [UInt8](repeating: 0, count: bytes.count)
            for index in 0..<bytes.count { wrong[index] = bytes[index] }
            let offset = switch position {
            case .first: 0
            case .middle: bytes.count / 2
            case .last: bytes.count - 1
            }
            wrong[offset] ^= 0x01
            try base.write(at: address, wrong.span)
        }

        func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
            try base.erase(at: address, sectorCount: count)
        }
    }

    static func open(
        _ flash: MisprogrammingFlash, checksum: Checksum, redundancy: Int = 1
    ) throws -> KeyValueStore<MisprogrammingFlash> {
        let store = try KeyValueStore(
            partition: FlashPartition(flash), format: EntryFormat(magic: 0x5b9a_341e, checksum: checksum), capacity: 32,
            redundancy: redundancy)
        try store.initialize()
        return store
    }

    static func value(_ store: KeyValueStore<MisprogrammingFlash>, _ key: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1024)
        var span = buffer.mutableSpan
        let count = try store.get(Array(key.utf8).span, into: &span)
        return Array(buffer[0..<count])
    }

    @Test("a put with one byte programmed wrong writes the entry elsewhere", arguments: [Checksum.crc16, .none])
    func misprogrammedCopyIsRewritten(checksum: Checksum) throws {
        // 20 bytes: one chunk (with a checksum one program, without two,
        // the header's last); 600 bytes: three chunks (four programs
        // without a checksum). Every program of the put, three bytes each.
        for valueCount in [20, 600] {
            var programs = 0
            for write in 0..<8 {
                for position in [MisprogrammingFlash.Position.first, .middle, .last] {
                    let flash = MisprogrammingFlash(RAMFlash(sectorSize: 4096, sectorCount: 4, alignment: 16))
                    let store = try Self.open(flash, checksum: checksum)
                    let before = flash.writes
                    try store.put(Array("old".utf8).span, [UInt8](repeating: 0x11, count: valueCount).span)
                    programs = flash.writes - before
                    guard write < programs else { break }
                    let new = (0..<valueCount).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
                    flash.misprogram(write: write, at: position)
                    try store.put(Array("old".utf8).span, new.span)
                    let context = "\(valueCount) B, program \(write) of \(programs), \(position) byte"
                    #expect(store.lastWriteState == .committed, "\(context)")
                    #expect(try Self.value(store, "old") == new, "\(context)")
                    let reopened = try Self.open(flash, checksum: checksum)
                    #expect(try Self.value(reopened, "old") == new, "after a restart: \(context)")
                }
            }
            #expect(programs == (checksum.byteCount == 0 ? 1 : 0) + (valueCount > 200 ? 3 : 1))
        }
    }

    @Test("with redundancy 2, a byte programmed wrong in either copy is rewritten elsewhere",
          arguments: [Checksum.crc16, .none])
    func misprogrammedRedundantCopyIsRewritten(checksum: Checksum) throws {
        for write in 0..<(checksum.byteCount == 0 ? 4 : 2) {
            for position in [MisprogrammingFlash.Position.first, .last] {
                let flash = MisprogrammingFlash(RAMFlash(sectorSize: 1024, sectorCount: 6, alignment: 16))
                let store = try Self.open(flash, checksum: checksum, redundancy: 2)
                try store.put(Array("old".utf8).span, [UInt8](repeating: 0x11, count: 40).span)
                let new = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 5 &+ 1) }
                flash.misprogram(write: write, at: position)
                let before = flash.writes
                try store.put(Array("old".utf8).span, new.span)
                let context = "program \(write) of the put, \(position) byte"
                // The misprogrammed write happened (two copies of one or
                // two programs each: programs 0...3 reach both copies).
                #expect(flash.writes - before > write, "\(context)")
                #expect(store.lastWriteState == .committed, "\(context)")
                #expect(try Self.value(store, "old") == new, "\(context)")
                #expect(store.invariantViolations() == [], "\(context)")
                let reopened = try Self.open(flash, checksum: checksum, redundancy: 2)
                #expect(try Self.value(reopened, "old") == new, "after a restart: \(context)")
                #expect(reopened.invariantViolations() == [], "after a restart: \(context)")
            }
        }
    }

    @Test("without verification a misprogrammed value byte stays (checksum none)")
    func withoutVerificationTheWrongByteStays() throws {
        // The control case: the flash above does misprogram, and without a
        // checksum only the comparison on write can catch it.
        let flash = MisprogrammingFlash(RAMFlash(sectorSize: 4096, sectorCount: 4, alignment: 16))
        let store = try KeyValueStore(
            partition: FlashPartition(flash), format: EntryFormat(magic: 0x5b9a_341e, checksum: .none), capacity: 32,
            options: Options(verifyOnWrite: false))
        try store.initialize()
        let value = [UInt8](repeating: 0x22, count: 20)
        flash.misprogram(write: 0, at: .middle)  // bytes 16..<48 of the entry: entry byte 32 is value byte 13
        try store.put(Array("old".utf8).span, value.span)
        var expected = value
        expected[13] ^= 0x01
        #expect(try Self.value(store, "old") == expected)
    }
}
