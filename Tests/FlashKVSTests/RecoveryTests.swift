import Testing
import FlashKVS

/// Recovery and the cases where pw_kvs loses data silently (spec 7.2):
/// each test here fails on the reference's behaviour.
@Suite("Recovery without silent data loss")
struct RecoveryTests {
    static let format = EntryFormat(magic: 0x5ab2_f0b5, checksum: .crc16)

    static func store(
        _ flash: RAMFlash, format: EntryFormat = format, formats: [EntryFormat]? = nil, capacity: Int = 16,
        redundancy: Int = 1, recovery: Options.Recovery = .lazy, sectors: Int? = nil
    ) throws -> KeyValueStore<RAMFlash> {
        try KeyValueStore(partition: FlashPartition(flash, sectorCount: sectors), formats: formats ?? [format],
                          capacity: capacity, redundancy: redundancy, options: Options(recovery: recovery))
    }

    static func value(_ index: Int) -> [UInt8] { Array("value \(index)".utf8) }

    // MARK: Data the store cannot index is never erased

    @Test("more keys on flash than the key table holds: reported, nothing erased (B5)")
    func keyTableOverflowErasesNothing() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let writer = try Self.store(flash, capacity: 8)
        try writer.initialize()
        for index in 0..<6 { try writer.put("key\(index)", Self.value(index)) }
        let before = flash.contents

        let small = try Self.store(flash, capacity: 4)
        #expect(throws: KVSError.resourceExhausted) { try small.initialize() }
        #expect(small.lastScan.entriesNotLoaded == 2)
        #expect(small.state == .needsMaintenance)
        #expect(small.count == 4)
        for index in 0..<4 { #expect(try small.get("key\(index)") == Self.value(index)) }
        #expect(throws: KVSError.failedPrecondition) { try small.put("key9", [1]) }
        #expect(throws: KVSError.resourceExhausted) { try small.fullMaintenance() }
        #expect(throws: KVSError.resourceExhausted) { try small.heavyMaintenance() }
        #expect(throws: KVSError.resourceExhausted) { try small.partialMaintenance() }
        #expect(flash.contents == before, "nothing may be erased or written")

        let large = try Self.store(flash, capacity: 8)
        try large.initialize()
        for index in 0..<6 { #expect(try large.get("key\(index)") == Self.value(index)) }

        // Only on explicit request are the keys that did not fit erased.
        try small.repairDiscardingUnindexedData()
        #expect(small.lastScan == ScanReport())
        #expect(small.isInitialized && small.count == 4)
        try small.fullMaintenance()
        try small.put("key0", [9])
        let reopened = try Self.store(flash, capacity: 8)
        try reopened.initialize()
        #expect(reopened.count == 4)
        #expect(try reopened.get("key0") == [9])
    }

    @Test("flash written with another magic: reported, never erased unless asked")
    func foreignFormatIsNeverErased() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let writer = try Self.store(flash)
        try writer.initialize()
        for index in 0..<5 { try writer.put("key\(index)", Self.value(index)) }
        let before = flash.contents

        let other = try Self.store(flash, format: EntryFormat(magic: 0x1234_5678, checksum: .crc16))
        #expect(throws: KVSError.failedPrecondition) { try other.initialize() }
        #expect(other.lastScan.unrecognizedData)
        #expect(other.count == 0)
        #expect(throws: KVSError.failedPrecondition) { try other.fullMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try other.put("x", [1]) }
        #expect(flash.contents == before)

        // The same checksum with another magic, or another checksum: same protection.
        let noChecksum = try Self.store(flash, format: EntryFormat(magic: Self.format.magic, checksum: .none))
        #expect(throws: KVSError.failedPrecondition) { try noChecksum.initialize() }
        #expect(flash.contents == before)

        let original = try Self.store(flash)
        try original.initialize()
        for index in 0..<5 { #expect(try original.get("key\(index)") == Self.value(index)) }

        // Destruction only on explicit request.
        try other.repairDiscardingUnindexedData()
        #expect(other.isInitialized)
        try other.put("fresh", [7])
        #expect(try other.get("fresh") == [7])
    }

    @Test("entries of a format left out of the configuration, beside its own: reported, never erased unless asked")
    func entriesOfAnUnconfiguredFormatAreNeverErased() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let older = EntryFormat(magic: 0x7e3a_91c4, checksum: .crc16)
        let writer = try Self.store(flash, formats: [older])
        try writer.initialize()
        for index in 0..<3 { try writer.put("key\(index)", Self.value(index)) }
        let migrating = try Self.store(flash, formats: [Self.format, older])
        try migrating.initialize()
        try migrating.put("key3", Self.value(3))
        let before = flash.contents

        // Only the new format configured: one key parses, three do not.
        let store = try Self.store(flash)
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(store.lastScan.unrecognizedData)
        #expect(store.state == .needsMaintenance)
        #expect(try store.get("key3") == Self.value(3))
        #expect(throws: KVSError.failedPrecondition) { try store.put("key4", [1]) }
        #expect(throws: KVSError.failedPrecondition) { try store.fullMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try store.heavyMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try store.partialMaintenance() }
        #expect(flash.contents == before, "nothing may be erased or written")

        let both = try Self.store(flash, formats: [Self.format, older])
        try both.initialize()
        for index in 0..<4 { #expect(try both.get("key\(index)") == Self.value(index)) }

        // Destruction only on explicit request.
        try store.repairDiscardingUnindexedData()
        #expect(store.lastScan == ScanReport())
        #expect(store.count == 1)
        try store.put("key4", [4])
    }

    enum MagicDamage: String, CaseIterable, CustomTestStringConvertible {
        case programCutShort, strayProgram, twoBytesOverwritten
        func apply(_ magic: UInt32) -> UInt32 {
            switch self {
            case .programCutShort: magic | 0x0F0F_0F00  // some 0 bits still read 1, in three bytes
            case .strayProgram: magic & 0xF0FF_00F0  // some 1 bits read 0, in three bytes
            case .twoBytesOverwritten: magic & 0xFF00_00FF | 0x00EF_EF00  // as pw_kvs's corruption tests do
            }
        }
        var testDescription: String { rawValue }
    }

    @Test("an entry whose magic was damaged on flash is this store's corrupt entry, repaired by lazy recovery",
          arguments: MagicDamage.allCases)
    func damagedMagicIsRepaired(damage: MagicDamage) throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let writer = try Self.store(flash)
        try writer.initialize()
        for index in 0..<3 { try writer.put("key\(index)", Self.value(index)) }
        let damaged = damage.apply(Self.format.magic)
        #expect(damaged != Self.format.magic && Self.format.couldBeDamagedMagic(damaged))
        #expect(!Self.format.couldBeDamagedMagic(damage.apply(0x7e3a_91c4)), "a magic of another format")
        // key1's entry (32 bytes) follows key0's in sector 1.
        #expect(flash[512 + 32 + 16] == UInt8(ascii: "k"))
        for byte in 0..<4 { flash[512 + 32 + byte] = UInt8(truncatingIfNeeded: damaged >> (8 * byte)) }

        let store = try Self.store(flash)
        try store.initialize()
        #expect(store.lastScan.corruptEntries == 1 && !store.lastScan.unrecognizedData)
        #expect(store.state == .ready)
        #expect(throws: KVSError.notFound) { try store.get("key1") }
        #expect(try store.get("key2") == Self.value(2))
        try store.put("key1", [1])
    }

    @Test("a lone failed entry on blank flash: a torn write of this store is repaired, other bytes are left alone")
    func loneFailedEntryIsRepairedOnlyIfItCouldBeATornWrite() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        var entry = Self.format.encodedEntry(key: Array("key".utf8).span, value: Self.value(0).span, transactionID: 1)
        for index in entry.indices { entry[index] |= 0x0C }  // a program cut short: some bits still read 1
        flash.load(entry.span, at: 512)
        let store = try Self.store(flash)
        try store.initialize()
        #expect(store.lastScan.corruptEntries == 1 && !store.lastScan.unrecognizedData)
        try store.put("key", Self.value(1))

        // Bytes that are no entry of any format (key length 0), alone on flash.
        let other = RAMFlash(sectorSize: 512, sectorCount: 4)
        other.load([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x10, 0x00, 0x10, 0x00, 0xF0, 0x00].span, at: 1024)
        let before = other.contents
        let foreign = try Self.store(other)
        #expect(throws: KVSError.failedPrecondition) { try foreign.initialize() }
        #expect(foreign.lastScan.unrecognizedData)
        #expect(other.contents == before)
    }

    // MARK: Gaps and malformed headers

    /// Sector 0 holds key1, 32 erased bytes, then k2 (the reference's
    /// DISABLED_Init_OkWithWriteErrorOnFlash image).
    static func gapImage() -> RAMFlash {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        flash.load(format.encodedEntry(key: Array("key1".utf8).span, value: Array("value1".utf8).span, transactionID: 1).span)
        flash.load(format.encodedEntry(key: Array("k2".utf8).span, value: Array("value2".utf8).span, transactionID: 3).span, at: 64)
        return flash
    }

    @Test("an erased gap does not hide the entries after it (B3)")
    func gapDoesNotHideEntries() throws {
        let manual = try Self.store(Self.gapImage(), recovery: .manual)
        #expect(throws: KVSError.dataLoss) { try manual.initialize() }
        #expect(manual.lastScan.gapsFound == 1)
        #expect(manual.count == 2)
        #expect(try manual.get("k2") == Array("value2".utf8))
        #expect(manual.storageStats.inUseBytes == 64)
        #expect(manual.storageStats.reclaimableBytes == 448)
        #expect(manual.storageStats.writableBytes == 1024)

        let flash = Self.gapImage()
        let lazy = try Self.store(flash)
        try lazy.initialize()
        #expect(lazy.count == 2)
        #expect(lazy.storageStats.corruptSectorsRecovered == 1)
        #expect(lazy.storageStats.inUseBytes == 64 && lazy.storageStats.writableBytes == 1472)
        // Later writes never land on the hidden entry (RAMFlash refuses to
        // program non-erased bytes, so any such write would fail).
        for round in 0..<40 { try lazy.put("fill", Self.value(round)) }
        #expect(try lazy.get("key1") == Array("value1".utf8))
        #expect(try lazy.get("k2") == Array("value2".utf8))
    }

    @Test("an entry whose size runs past its sector is rejected (B4)")
    func entryCrossingItsSectorIsRejected() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        for index in 0..<15 {
            flash.load(Self.format.encodedEntry(
                key: Array("a\(index)".utf8).span, value: [UInt8](repeating: 1, count: 4).span,
                transactionID: UInt32(index + 1)).span, at: index * 32)
        }
        // A valid 128-byte entry at offset 480 of a 512-byte sector.
        let crossing = Self.format.encodedEntry(key: Array("k".utf8).span, value: [UInt8](repeating: 9, count: 100).span,
                                                transactionID: 99)
        flash.load(crossing.span, at: 480)
        let store = try Self.store(flash, capacity: 32, recovery: .manual)
        #expect(throws: KVSError.dataLoss) { try store.initialize() }
        #expect(store.lastScan.corruptEntries >= 1)
        #expect(throws: KVSError.notFound) { try store.get("k") }
        #expect(store.count == 15)
        let stats = store.storageStats
        #expect(stats.writableBytes + stats.inUseBytes + stats.reclaimableBytes <= 4 * 512)
    }

    // MARK: Reads, writes and maintenance

    enum Corruption: String, CaseIterable, CustomTestStringConvertible {
        case magic, checksum, key, value
        var offset: Int { switch self { case .magic: 1; case .checksum: 4; case .key: 17; case .value: 21 } }
        var testDescription: String { rawValue }
    }

    @Test("a get whose first copy is corrupt returns the good copy and schedules repair (B2)",
          arguments: Corruption.allCases)
    func readsSurviveOneBadCopy(corruption: Corruption) throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try Self.store(flash, redundancy: 2)
        try store.initialize()
        try store.put("key1", Array("value1".utf8))
        // The first copy of the first entry goes to sector 1 (pw_kvs placement).
        #expect(flash[512 + 16] == UInt8(ascii: "k"))
        flash[512 + corruption.offset] ^= 0x40
        #expect(try store.get("key1") == Array("value1".utf8))
        let item = try #require(store.items.first { _ in true })
        #expect(item.key == Array("key1".utf8))
        var buffer = [UInt8](repeating: 0, count: 16)
        var span = buffer.mutableSpan
        #expect(try store.get(item, into: &span) == 6)
        #expect(store.errorDetected, "the bad copy must be scheduled for repair")

        try store.fullMaintenance()
        #expect(!store.errorDetected)
        let reopened = try Self.store(flash, redundancy: 2)
        try reopened.initialize()
        #expect(reopened.lastScan == ScanReport())
        #expect(try reopened.get("key1") == Array("value1".utf8))
    }

    @Test("recovery modes: lazy repairs a damaged copy in initialize(); manual serves reads, refuses writes until full maintenance",
          arguments: [Options.Recovery.lazy, .manual])
    func recoveryModes(recovery: Options.Recovery) throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let writer = try Self.store(flash, redundancy: 2)
        try writer.initialize()
        for index in 0..<3 { try writer.put("key\(index)", Self.value(index)) }
        let entry = Array("key1".utf8) + Self.value(1)
        let contents = flash.contents
        let copy = try #require((0...(contents.count - entry.count)).first { contents[$0..<($0 + entry.count)].elementsEqual(entry) })
        flash[copy + entry.count - 1] ^= 0x01  // the last value byte of one copy

        let store = try Self.store(flash, redundancy: 2, recovery: recovery)
        if recovery == .manual {
            #expect(throws: KVSError.dataLoss) { try store.initialize() }
            #expect(store.state == .needsMaintenance && store.checkForErrors())
            for index in 0..<3 { #expect(try store.get("key\(index)") == Self.value(index)) }
            let before = flash.contents
            #expect(throws: KVSError.failedPrecondition) { try store.put("key0", [9]) }
            #expect(store.lastWriteState == .notWritten)
            #expect(throws: KVSError.failedPrecondition) { try store.delete("key0") }
            #expect(flash.contents == before, "nothing is written or erased before maintenance")
            try store.fullMaintenance()
        } else {
            try store.initialize()
        }
        #expect(store.lastScan.corruptEntries == 1, "the scan that found the damaged copy")
        #expect(store.state == .ready && !store.errorDetected)
        #expect(store.storageStats.corruptSectorsRecovered == 1)
        #expect(store.invariantViolations().isEmpty)
        try store.put("key0", [9])
        let reopened = try Self.store(flash, redundancy: 2)
        try reopened.initialize()
        #expect(reopened.lastScan == ScanReport())
        #expect(try reopened.get("key0") == [9])
        for index in 1..<3 { #expect(try reopened.get("key\(index)") == Self.value(index)) }
    }

    @Test("partial maintenance with nothing to reclaim moves and erases nothing (B7)")
    func maintenanceWithNothingToReclaimMovesNothing() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try Self.store(flash)
        try store.initialize()
        for index in 0..<3 { try store.put("key\(index)", Self.value(index)) }
        let before = flash.contents
        #expect(throws: KVSError.notFound) { try store.partialMaintenance() }
        #expect(flash.contents == before)
        #expect(store.storageStats.sectorEraseCount == 0)
    }

    @Test("a failing put reports precisely what it left on flash (B4-bis)")
    func putReportsWhatWasCommitted() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try Self.store(flash, redundancy: 2)
        try store.initialize()
        try store.put("key", Array("old".utf8))

        // A failed program is retried once elsewhere: one failure is absorbed.
        flash.inject(FlashFault(.write, error: .unavailable, times: 1))
        try store.put("key", Array("new".utf8))
        #expect(store.lastWriteState == .committed)

        flash.inject(FlashFault(.write, error: .unavailable, times: 2, delay: 1))  // the second copy, twice
        #expect(throws: KVSError.unavailable) { try store.put("key", Array("newer".utf8)) }
        #expect(store.lastWriteState == .committed)
        #expect(try store.get("key") == Array("newer".utf8))

        // The first copy fails twice: the tables are rebuilt from flash, where
        // RAMFlash (like real flash may) programmed the bytes anyway, and the
        // state says what a restart reads.
        flash.inject(FlashFault(.write, error: .unavailable, times: 2))
        #expect(throws: KVSError.unavailable) { try store.put("key", Array("newest".utf8)) }
        #expect(store.lastWriteState == .committed)
        #expect(try store.get("key") == Array("newest".utf8))

        #expect(throws: KVSError.invalidArgument) { try store.put("key", [UInt8](repeating: 0, count: 600)) }
        #expect(store.lastWriteState == .notWritten)

        flash.removeAllFaults()
        let reopened = try Self.store(flash, redundancy: 2)
        try reopened.initialize()
        #expect(try reopened.get("key") == Array("newest".utf8))
    }

    @Test("a put whose first copy fails and whose retry finds no room rebuilds the tables: its state is what a restart reads")
    func putWithoutRoomForItsRetryRebuilds() throws {
        // Three 512-byte sectors, no garbage collection on write: after two
        // 256-byte entries fill one sector and a third half fills the next,
        // the fourth goes into that half; when its program fails, that sector
        // is corrupt, the other is full and the last erased one is reserved,
        // so the retry finds no room.
        let flash = RAMFlash(sectorSize: 512, sectorCount: 3)
        let options = Options(garbageCollectionOnWrite: .disabled)
        func open() throws -> KeyValueStore<RAMFlash> {
            try KeyValueStore(partition: FlashPartition(flash), format: Self.format, capacity: 16, options: options)
        }
        let store = try open()
        try store.initialize()
        let big = { (byte: UInt8) in [UInt8](repeating: byte, count: 224) }  // 16 + 2 + 224 -> 256 bytes
        for index in 0..<3 { try store.put("k\(index)", big(UInt8(index))) }
        flash.inject(FlashFault(.write, error: .unavailable, times: 1))
        #expect(throws: KVSError.resourceExhausted) { try store.put("k3", big(3)) }
        #expect(store.lastWriteState != .uncertain, "the tables were rebuilt from flash")
        let stored: [UInt8]? = store.lastWriteState == .committed ? big(3) : nil
        #expect((try? store.get("k3")) == stored)
        #expect(store.invariantViolations().isEmpty)
        flash.removeAllFaults()
        let reopened = try open()
        try? reopened.initialize()
        #expect((try? reopened.get("k3")) == stored)
        for index in 0..<3 { #expect(try reopened.get("k\(index)") == big(UInt8(index))) }
    }

    @Test("repairing a corrupt sector whose copies fit nowhere else drops them: the keys live on in their other copies")
    func corruptSectorCopiesWithoutRoomAreDropped() throws {
        // Sixteen keys, two copies each, fill four of five 256-byte sectors
        // (32-byte entries, 8 to a sector): keys 10-17 in sectors 1 and 2,
        // keys 18-25 in sectors 3 and 4. The repair gets sectors 1, 2 and 3
        // alone, with no erased sector, and one copy in the first damaged:
        // that sector is corrupt, and each of its other copies could only
        // move into the last sector, which is full. Each is dropped (the
        // key lives on in the second sector; pw_kvs stays in error) and the
        // sector erased; the repair then restores what copies fit.
        let writerFlash = RAMFlash(sectorSize: 256, sectorCount: 5)
        let writer = try Self.store(writerFlash, redundancy: 2)
        try writer.initialize()
        let value = { (index: Int) in Array("value \(index).....".utf8) }  // 16 + 3 + 13 -> 32 bytes
        for index in 10..<26 { try writer.put("k\(index)", value(index)) }
        try #require((1..<5).allSatisfy { writer.usage(ofSector: $0).validBytes == 256 })
        var image = Array(writerFlash.contents[256..<1024])
        image[31] ^= 0x01  // the last value byte of the first entry

        let flash = RAMFlash(sectorSize: 256, sectorCount: 3)
        flash.load(image.span)
        let scanned = try Self.store(flash, redundancy: 2, recovery: .manual)
        try? scanned.initialize()
        try #require(scanned.usage(ofSector: 0).isCorrupt && scanned.usage(ofSector: 2).writableBytes == 0)
        let store = try Self.store(flash, redundancy: 2)
        #expect(throws: KVSError.self, "not every copy fits again") { try store.initialize() }
        #expect(store.lastScan.corruptEntries == 1)
        #expect(!store.usage(ofSector: 0).isCorrupt, "the corrupt sector was collected")
        #expect(store.invariantViolations().isEmpty)
        for index in 10..<26 { #expect(try store.get("k\(index)") == value(index)) }
        let reopened = try Self.store(flash, redundancy: 2)
        try? reopened.initialize()
        for index in 10..<26 { #expect(try reopened.get("k\(index)") == value(index)) }
    }

    @Test("a repair keeps the wear-leveling origin (B15)")
    func repairKeepsWearLevelingOrigin() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try Self.store(flash, redundancy: 2)
        try store.initialize()
        for index in 0..<4 { try store.put("key\(index)", Self.value(index)) }
        #expect(store.wearLevelingOrigin == 2)  // copies in sectors 1 and 2
        var partition = try FlashPartition(flash)
        try partition.erase(at: 512)  // lose the first copies behind the store's back
        #expect(try store.get("key0") == Self.value(0))
        try store.fullMaintenance()
        // The copies are restored after the origin (sector 3), not at sector 1
        // as after pw_kvs's repair, which resets the origin to sector 0.
        #expect(store.usage(ofSector: 1).validBytes == 0)
        #expect(store.usage(ofSector: 3).validBytes == 4 * 32)
        for index in 0..<4 { #expect(try store.get("key\(index)") == Self.value(index)) }
    }

    @Test("typed get works while the store needs maintenance (B6)")
    func typedGetNeedsNoWriteAccess() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let writer = try Self.store(flash)
        try writer.initialize()
        try writer.put("count", value: UInt32(7))
        flash[1024 + 20] ^= 0x01  // damage a sector that holds no live data: errors to repair
        flash[1024] = 0x00
        let store = try Self.store(flash, recovery: .manual)
        #expect(throws: KVSError.dataLoss) { try store.initialize() }
        #expect(store.state == .needsMaintenance)
        #expect(try store.get("count", as: UInt32.self) == 7)
    }

    @Test("heavy maintenance keeps deleted keys while a collection pass fails (B9)")
    func deletedKeysStayUntilACompletePass() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try Self.store(flash)
        try store.initialize()
        for round in 0..<12 { try store.put("key\(round % 3)", Self.value(round)) }
        try store.delete("key0")
        #expect(store.totalEntriesWithDeleted == 3)
        flash.inject(FlashFault(.erase, error: .unavailable))
        #expect(throws: KVSError.unavailable) { try store.heavyMaintenance() }
        // pw_kvs forgets "key0" here although older versions of it may survive.
        #expect(store.totalEntriesWithDeleted == 3)
        flash.removeAllFaults()
        try store.heavyMaintenance()
        #expect(store.totalEntriesWithDeleted == 2)
        let reopened = try Self.store(flash)
        try reopened.initialize()
        #expect(throws: KVSError.notFound) { try reopened.get("key0") }
        #expect(try reopened.get("key1") == Self.value(10))
    }

    // MARK: Configuration changes across firmware versions (spec 4.11)

    @Test("a larger partition, or a smaller one that holds all data, keeps every key")
    func partitionSizeChanges() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 8)
        let writer = try Self.store(flash, sectors: 4)
        try writer.initialize()
        for index in 0..<6 { try writer.put("key\(index)", Self.value(index)) }

        let larger = try Self.store(flash, sectors: 8)
        try larger.initialize()
        for index in 0..<6 { #expect(try larger.get("key\(index)") == Self.value(index)) }

        let smaller = try Self.store(flash, sectors: 3)  // the data sits in sector 1
        try smaller.initialize()
        for index in 0..<6 { #expect(try smaller.get("key\(index)") == Self.value(index)) }
    }

    @Test("more or fewer copies than the flash holds keep every key")
    func redundancyChanges() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 6)
        let single = try Self.store(flash, redundancy: 1)
        try single.initialize()
        for index in 0..<5 { try single.put("key\(index)", Self.value(index)) }

        let double = try Self.store(flash, redundancy: 2)
        try double.initialize()  // adds the copies; not counted as a repair
        #expect(double.storageStats.missingRedundantEntriesRecovered == 0)
        #expect(double.storageStats.inUseBytes == 2 * 5 * 32)

        let singleAgain = try Self.store(flash, redundancy: 1)
        try singleAgain.initialize()
        #expect(!singleAgain.errorDetected)
        for index in 0..<5 { #expect(try singleAgain.get("key\(index)") == Self.value(index)) }
    }

    @Test("an added entry format reads old entries and migrates them in full maintenance")
    func addedFormatMigrates() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let old = EntryFormat(magic: 0x1111_1111, checksum: .none)
        let new = EntryFormat(magic: 0x2222_2222, checksum: .crc16)
        let writer = try Self.store(flash, format: old)
        try writer.initialize()
        for index in 0..<4 { try writer.put("key\(index)", Self.value(index)) }

        let both = try Self.store(flash, formats: [new, old])
        try both.initialize()
        for index in 0..<4 { #expect(try both.get("key\(index)") == Self.value(index)) }
        try both.fullMaintenance()

        let newOnly = try Self.store(flash, format: new)
        try newOnly.initialize()
        #expect(newOnly.lastScan == ScanReport())
        for index in 0..<4 { #expect(try newOnly.get("key\(index)") == Self.value(index)) }
    }

    @Test("a put into a full key table frees deleted keys' slots but migrates nothing; full maintenance does")
    func fullKeyTablePutDoesNotMigrate() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let old = EntryFormat(magic: 0x1111_1111, checksum: .none)
        let new = EntryFormat(magic: 0x2222_2222, checksum: .crc16)
        let writer = try Self.store(flash, format: old, capacity: 4)
        try writer.initialize()
        for index in 0..<4 { try writer.put("key\(index)", Self.value(index)) }
        try writer.delete("key3")

        let both = try Self.store(flash, formats: [new, old], capacity: 4)
        try both.initialize()
        try both.put("fresh", Self.value(9))  // the table is full: heavy collection drops key3
        #expect(both.totalEntriesWithDeleted == 4)
        #expect(both.transactionCount == writer.transactionCount + 1, "only the put took a transaction id")
        for index in 0..<3 { #expect(try both.get("key\(index)") == Self.value(index)) }
        #expect(try both.get("fresh") == Self.value(9))

        // The old keys are still in the old format: a store that knows only
        // the new one sees just the put, and leaves the rest alone.
        let newOnly = try Self.store(flash, format: new, capacity: 4)
        #expect(throws: KVSError.failedPrecondition) { try newOnly.initialize() }
        #expect(newOnly.count == 1 && newOnly.lastScan.unrecognizedData)

        try both.fullMaintenance()
        let migrated = try Self.store(flash, format: new, capacity: 4)
        try migrated.initialize()
        #expect(migrated.count == 4)
        for index in 0..<3 { #expect(try migrated.get("key\(index)") == Self.value(index)) }
    }
}
