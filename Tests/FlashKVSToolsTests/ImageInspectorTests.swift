import FlashKVS
import FlashKVSTools
import Testing

/// A flash configuration for the inspector suites.
struct InspectorSetup: CustomTestStringConvertible, Sendable {
    var configuration: StoreConfiguration
    var testDescription: String {
        "\(configuration.sectorCount!)x\(configuration.sectorSize) a\(configuration.alignment) "
            + "\(configuration.checksum.rawValue) r\(configuration.redundancy)"
            + (configuration.additionalFormats.isEmpty ? "" : " +\(configuration.additionalFormats.count) formats")
    }

    static let all = [
        InspectorSetup(configuration: StoreConfiguration(sectorSize: 512, sectorCount: 4)),
        InspectorSetup(configuration: StoreConfiguration(sectorSize: 512, sectorCount: 6, redundancy: 2)),
        InspectorSetup(configuration: StoreConfiguration(sectorSize: 1024, sectorCount: 4, alignment: 64, checksum: .none)),
        InspectorSetup(configuration: StoreConfiguration(sectorSize: 256, sectorCount: 8, alignment: 1, redundancy: 3)),
        InspectorSetup(configuration: StoreConfiguration(
            sectorSize: 512, sectorCount: 4, additionalFormats: [.init(magic: 0x1234_5678, checksum: .none)])),
    ]

    /// The configuration of a device before it changed its magic: the
    /// last additional format written, the same otherwise (the primary
    /// one when there is no additional format).
    var earlierConfiguration: StoreConfiguration {
        var earlier = configuration
        if let format = configuration.additionalFormats.last {
            earlier.magic = format.magic
            earlier.checksum = format.checksum
            earlier.additionalFormats = []
        }
        return earlier
    }

    func makeFlash() -> RAMFlash {
        RAMFlash(sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount!,
                 alignment: configuration.alignment)
    }
}

@Suite("ImageInspector: the store's view, rebuilt without writing")
struct ImageInspectorTests {
    let configuration = StoreConfiguration(sectorSize: 512, sectorCount: 4, maxEntries: 64)

    func session(_ flash: RAMFlash, _ configuration: StoreConfiguration? = nil, writable: Bool = true) throws
        -> StoreSession<RAMFlash>
    {
        try StoreSession(flash: flash, configuration: configuration ?? self.configuration, writable: writable)
    }

    func inspect(_ flash: RAMFlash, _ configuration: StoreConfiguration? = nil) throws -> ImageInspection {
        try ImageInspector.inspect(flash, configuration: configuration ?? self.configuration)
    }

    @Test func classifiesLiveStaleAndDeletedEntries() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try session(flash).store
        try store.put("a", Array("1".utf8))
        try store.put("b", Array("2".utf8))
        try store.put("a", Array("3".utf8))
        try store.delete("b")
        let inspection = try inspect(flash)
        let summary = inspection.entries.map { "\(String(decoding: $0.key ?? [], as: UTF8.self)):\($0.state.rawValue)" }
        #expect(summary == ["a:stale", "b:stale", "a:live", "b:deleted"])
        #expect(inspection.entries.map(\.offset) == [0, 32, 64, 96])
        #expect(inspection.entries[0].detail == "superseded by transaction 3")
        #expect(inspection.problems.isEmpty)
        #expect(inspection.keys.map(\.key) == [Array("a".utf8), Array("b".utf8)])
        #expect(inspection.lastTransactionID == 4)
        #expect(inspection.disagreements(with: try session(flash, writable: false)).isEmpty)
    }

    @Test func aCorruptNewestVersionRevertsToThePreviousOneAndIsLocated() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try session(flash).store
        try store.put("key", Array("old".utf8))
        try store.put("key", Array("new".utf8))
        let newest = try #require(try inspect(flash).entries.last)
        flash[newest.address + 20] ^= 0xFF
        let inspection = try inspect(flash)
        #expect(inspection.entries.map(\.state) == [.live, .corrupt])
        #expect(inspection.entries[1].detail == "crc16 checksum mismatch")
        #expect(inspection.entries[1].size == 512 - newest.offset)
        let problem = try #require(inspection.problems.first)
        #expect(problem.kind == .corruptEntry && problem.sector == newest.sector && problem.offset == newest.offset)
        let reader = try session(flash, writable: false)
        #expect(reader.initializationError == .dataLoss)
        #expect(try reader.store.get("key") == Array("old".utf8))
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func writtenBytesAfterAGapAreCorruptAsTheStoreSeesThem() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        try session(flash).store.put("a", Array("1".utf8))
        let sector = try #require(try inspect(flash).entries.first).sector
        flash.load([1, 2, 3].span, at: sector * 512 + 200)
        let inspection = try inspect(flash)
        let gap = try #require(inspection.entries.last)
        #expect(gap.state == .corrupt && gap.offset == 32 && gap.size == 480)
        #expect(gap.detail?.contains("erased gap") == true)
        #expect(inspection.problems.map(\.kind) == [.corruptEntry])
        let reader = try session(flash, writable: false)
        #expect(reader.initializationError == .dataLoss)
        #expect(reader.store.lastScan.gapsFound == 1)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func dataInASectorThatLooksEmptyIsHiddenFromTheStoresInit() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        try session(flash).store.put("a", Array("1".utf8))
        flash.load([1, 2, 3].span, at: 3 * 512 + 100)
        let inspection = try inspect(flash)
        let problem = try #require(inspection.problems.first)
        #expect(problem.kind == .hiddenData && problem.sector == 3)
        #expect(inspection.sectors[3].hiddenBytes == 103)
        #expect(!inspection.storeDetectsErrors)
        let reader = try session(flash, writable: false)
        #expect(reader.initializationError == nil)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func anotherMagicIsAFormatMismatchNamingTheMagicFound() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        try session(flash).store.put("a", Array("1".utf8))
        var other = configuration
        other.magic = 0x1234_5678
        let inspection = try inspect(flash, other)
        let mismatch = try #require(inspection.problems.first { $0.kind == .formatMismatch })
        #expect(mismatch.message.contains("--magic 0xd253a8a9"))
        #expect(inspection.entries.allSatisfy { $0.state == .corrupt })
        let reader = try session(flash, other, writable: false)
        #expect(reader.initializationError == .failedPrecondition && reader.store.lastScan.unrecognizedData)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    /// A device whose magic changed: `oldKeys` (values "0", "1", ...) are
    /// written in the `old` format, then "new" (value "2") by a store
    /// reading both formats, `current` first.
    /// - Returns: that configuration, reading both formats.
    func writeAcrossAMagicChange(
        _ flash: RAMFlash, oldKeys: [String],
        old: StoreConfiguration.Format = .init(magic: 0x1234_5678, checksum: .crc16), current: StoreConfiguration
    ) throws -> StoreConfiguration {
        var earlier = current
        (earlier.magic, earlier.checksum) = (old.magic, old.checksum)
        let oldStore = try session(flash, earlier).store
        for (index, key) in oldKeys.enumerated() { try oldStore.put(key, Array(String(index).utf8)) }
        var both = current
        both.additionalFormats = [old]
        try session(flash, both).store.put("new", Array("2".utf8))
        return both
    }

    @Test func entriesOfAnotherFormatBesideOwnOnesAreAFormatMismatch() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        _ = try writeAcrossAMagicChange(flash, oldKeys: ["old"], current: configuration)
        let inspection = try inspect(flash)
        let mismatch = try #require(inspection.problems.first { $0.kind == .formatMismatch })
        #expect(mismatch.message.contains("first magic 0x12345678") && mismatch.message.contains("1 entry looks like"))
        #expect(inspection.entries.map(\.state) == [.corrupt, .live])
        let reader = try session(flash, writable: false)
        #expect(reader.initializationError == .failedPrecondition && reader.store.lastScan.unrecognizedData)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func additionalFormatsAreReadEachWithItsOwnChecksum() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        var current = configuration
        current.checksum = .none
        let both = try writeAcrossAMagicChange(flash, oldKeys: ["x", "old"], current: current)

        let inspection = try inspect(flash, both)
        #expect(inspection.problems.isEmpty)
        #expect(inspection.entries.map(\.state) == [.live, .live, .live])
        #expect(inspection.entries.map { $0.header?.magic } == [0x1234_5678, 0x1234_5678, configuration.magic])
        #expect(inspection.disagreements(with: try session(flash, both, writable: false)).isEmpty)

        // Each entry is checked with its own format's checksum, not the primary's.
        var wrongChecksum = both
        wrongChecksum.additionalFormats[0].checksum = .none
        let failing = try inspect(flash, wrongChecksum)
        #expect(failing.entries.map(\.state) == [.corrupt, .corrupt, .live])
        #expect(failing.entries[0].detail == "none checksum mismatch")

        // After corrupt data the scan resumes at the next entry of any configured format.
        flash.load(Array("9".utf8).span, at: inspection.entries[0].address + EntryHeader.size + 1)
        let resumed = try inspect(flash, both)
        #expect(resumed.entries.map(\.state) == [.corrupt, .live, .live])
        #expect(resumed.disagreements(with: try session(flash, both, writable: false)).isEmpty)
    }

    @Test func aTornFirstWriteIsNoFormatMismatch() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        var entry = configuration.format.encodedEntry(key: Array("a".utf8).span, value: [1].span, transactionID: 1)
        for index in entry.indices { entry[index] |= 0x30 }  // a program cut short: some bits still read 1
        flash.load(entry.span, at: 512)
        let inspection = try inspect(flash)
        #expect(!inspection.problems.contains { $0.kind == .formatMismatch })
        #expect(inspection.problems.contains { $0.kind == .corruptEntry })
        let reader = try session(flash, writable: false)
        #expect(reader.initializationError == .dataLoss && !reader.store.lastScan.unrecognizedData)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func anotherChecksumIsAFormatMismatchNamingTheChecksum() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let writer = try session(flash).store
        try writer.put("a", Array("1".utf8))
        try writer.put("b", Array("2".utf8))  // one failing entry alone could be a torn first write
        var other = configuration
        other.checksum = .none
        let inspection = try inspect(flash, other)
        let mismatch = try #require(inspection.problems.first { $0.kind == .formatMismatch })
        #expect(mismatch.message.contains("--checksum crc16"))
        let reader = try session(flash, other, writable: false)
        #expect(reader.initializationError == .failedPrecondition && reader.store.lastScan.unrecognizedData)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func keysWithFewerCopiesThanTheRedundancyAreReported() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try session(flash).store
        try store.put("a", Array("1".utf8))
        try store.put("b", Array("2".utf8))
        var redundant = configuration
        redundant.redundancy = 2
        let all = try inspect(flash, redundant).problems
        #expect(all.map(\.kind) == [.missingCopies])
        #expect(all[0].message.contains("every key (2)") && all[0].message.contains("--redundancy 1"))
        #expect(try inspect(flash, redundant).disagreements(with: try session(flash, redundant, writable: false)).isEmpty)
    }

    @Test func noErasedSectorLeftIsReported() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        try session(flash).store.put("a", Array("1".utf8))
        for sector in 0..<4 where try inspect(flash).sectors[sector].isEmpty(sectorSize: 512) {
            flash.load([0].span, at: sector * 512)
        }
        let inspection = try inspect(flash)
        #expect(inspection.problems.contains { $0.kind == .noReserveSector })
        #expect(inspection.disagreements(with: try session(flash, writable: false)).isEmpty)
    }

    @Test func keysBeyondTheCapacityAreNotLoadedButNotCorrupt() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try session(flash).store
        for index in 0..<5 { try store.put("key\(index)", [UInt8(index)]) }
        var small = configuration
        small.maxEntries = 3
        let inspection = try inspect(flash, small)
        #expect(inspection.entries.map(\.state) == [.live, .live, .live, .unindexed, .unindexed])
        #expect(inspection.problems.map(\.kind) == [.keysNotLoaded])
        let reader = try session(flash, small, writable: false)
        #expect(reader.initializationError == .resourceExhausted)
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test func aWrongAlignmentIsReported() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4, alignment: 16)
        try session(flash).store.put("a", Array("1".utf8))
        var wider = configuration
        wider.alignment = 32
        let problems = try inspect(flash, wider).problems
        #expect(problems.map(\.kind) == [.alignmentMismatch])
    }

    @Test func inspectingNeverWritesAndEveryByteIsAccountedFor() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try session(flash).store
        for index in 0..<40 { try store.put("key\(index % 7)", [UInt8](repeating: UInt8(index), count: index * 3)) }
        flash[700] ^= 0x10
        flash.resetCounters()
        let inspection = try inspect(flash)
        #expect(flash.counters.writeCalls == 0 && flash.counters.eraseCalls == 0)
        for usage in inspection.sectors {
            #expect(usage.validBytes + usage.staleBytes + usage.corruptBytes + usage.unindexedBytes + usage.hiddenBytes
                + usage.freeBytes == 512)
            #expect(usage.regions.reduce(0) { $0 + $1.length } == 512)
        }
    }

    @Test("Random workloads: the inspection agrees with the store", arguments: InspectorSetup.all)
    func randomWorkloadsAgreeWithTheStore(setup: InspectorSetup) throws {
        var random = SeededGenerator(seed: 0x5EED_0001)
        let flash = setup.makeFlash()
        let configuration = setup.configuration
        let writer = try StoreSession(flash: flash, configuration: configuration, writable: true)
        let keys = (0..<12).map { "k\($0)" }
        for step in 1...240 {
            let key = keys.randomElement(using: &random)!
            switch Int.random(in: 0..<20, using: &random) {
            case 0: try? writer.store.delete(key)
            case 1: try? writer.store.partialMaintenance()
            case 2: try? writer.store.heavyMaintenance()
            case 3: try writer.reinitialize()
            default:
                let value = (0..<Int.random(in: 0...90, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                try? writer.store.put(key, value)
            }
            guard step % 40 == 0 else { continue }
            let inspection = try ImageInspector.inspect(flash, configuration: configuration)
            let reader = try StoreSession(flash: flash, configuration: configuration, writable: false)
            #expect(inspection.problems.isEmpty, "step \(step): \(inspection.problems.map(\.message))")
            #expect(inspection.disagreements(with: reader).isEmpty, "step \(step)")
            let live = inspection.keys.filter { !$0.isDeleted }.map(\.key)
            #expect(try reader.store.contents().map(\.key) == live)
        }
    }

    @Test("Random corruption: the inspection still agrees with the store", arguments: InspectorSetup.all)
    func randomCorruptionAgreesWithTheStore(setup: InspectorSetup) throws {
        var random = SeededGenerator(seed: 0x5EED_0002)
        let configuration = setup.configuration
        for round in 0..<25 {
            let flash = setup.makeFlash()
            // With an additional format, the first half is written in it.
            var writer = try StoreSession(flash: flash, configuration: setup.earlierConfiguration, writable: true)
            let count = Int.random(in: 5...40, using: &random)
            for index in 0..<count {
                if index == count / 2 && !configuration.additionalFormats.isEmpty {
                    writer = try StoreSession(flash: flash, configuration: configuration, writable: true)
                }
                let value = (0..<Int.random(in: 0...60, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                try? writer.store.put("key\(index % 9)", value)
            }
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let address = Int.random(in: 0..<flash.size, using: &random)
                flash[address] = UInt8.random(in: 0...255, using: &random)
            }
            let inspection = try ImageInspector.inspect(flash, configuration: configuration)
            let reader = try StoreSession(flash: flash, configuration: configuration, writable: false)
            #expect(inspection.disagreements(with: reader).isEmpty, "round \(round): \(inspection.problems.map(\.message))")
            #expect((reader.initializationError != nil) == inspection.storeDetectsErrors)
        }
    }

    @Test("Random bytes: no crash, and agreement with the store", arguments: InspectorSetup.all)
    func randomBytesAgreeWithTheStore(setup: InspectorSetup) throws {
        var random = SeededGenerator(seed: 0x5EED_0003)
        let configuration = setup.configuration
        for _ in 0..<10 {
            let flash = setup.makeFlash()
            let bytes = (0..<flash.size).map { _ in UInt8.random(in: 0...255, using: &random) }
            flash.load(bytes.span)
            // Plant a few plausible headers so the scan also meets the magic.
            for _ in 0..<8 {
                let address = Int.random(in: 0..<(flash.size / 16), using: &random) * 16
                let magic = configuration.allFormats.randomElement(using: &random)!.magic
                withUnsafeBytes(of: magic.littleEndian) { flash.load(Array($0).span, at: address) }
            }
            let inspection = try ImageInspector.inspect(flash, configuration: configuration)
            let reader = try StoreSession(flash: flash, configuration: configuration, writable: false)
            #expect(inspection.disagreements(with: reader).isEmpty)
            #expect(!inspection.isClean)
        }
    }

    /// Checksum none: a good entry of key `k` (transaction 5) in sector 2,
    /// and in sector 0 the same entry torn by an erase cut (`tear` sets
    /// its bytes from the given offset on to the erased value).
    func tornCopyImage(tearFrom offset: Int) throws -> (RAMFlash, StoreConfiguration) {
        var configuration = configuration
        configuration.checksum = .none
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let entry = configuration.format.encodedEntry(
            key: Array("k".utf8).span, value: [UInt8](repeating: 0x5A, count: 40).span, transactionID: 5)
        var torn = entry
        for index in offset..<torn.count { torn[index] = 0xFF }
        flash.load(torn.span, at: 0)
        flash.load(entry.span, at: 2 * 512)
        return (flash, configuration)
    }

    @Test("checksum none: of two copies of one transaction, the torn one (bits erased) is not indexed, as in the store")
    func aTornCopyWithoutChecksumIsLeftOutAsInTheStore() throws {
        let (flash, configuration) = try tornCopyImage(tearFrom: EntryHeader.size + 1 + 20)
        let inspection = try inspect(flash, configuration)
        #expect(inspection.keys.map(\.addresses) == [[1024]])
        #expect(inspection.entries.map(\.state) == [.stale, .live])
        #expect(inspection.entries[0].detail?.contains("torn copy of transaction 5") == true)
        let reader = try session(flash, configuration, writable: false)
        #expect(try reader.store.get("k") == [UInt8](repeating: 0x5A, count: 40))
        #expect(inspection.disagreements(with: reader).isEmpty)
    }

    @Test("checksum none: an entry torn in its key, the last before erased space, is corrupt, as in the store")
    func aTornKeyWithoutChecksumIsLeftOutAsInTheStore() throws {
        let (flash, configuration) = try tornCopyImage(tearFrom: EntryHeader.size)
        let inspection = try inspect(flash, configuration)
        #expect(inspection.keys.map(\.key) == [Array("k".utf8)])
        #expect(inspection.entries.map(\.state) == [.corrupt, .live])
        #expect(inspection.entries[0].detail?.contains("interrupted erase cut through") == true)
        let reader = try session(flash, configuration, writable: false)
        #expect(reader.store.items.map { Array($0.key) } == [Array("k".utf8)])
        #expect(inspection.disagreements(with: reader).isEmpty)
    }
}
