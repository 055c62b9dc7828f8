import FlashKVS
import Testing

/// Garbage collection: how the store reclaims stale entries, one sector at
/// a time, when a write needs space or partial maintenance asks: a sector
/// of stale data is erased without copying, live entries are moved first,
/// one erased sector is always kept in reserve, and a key's copies stay in
/// distinct sectors.
@Suite("Garbage collection")
struct GarbageCollectionTests {
    /// 4 x 512 B, alignment 16, redundancy 1.
    static let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16)

    /// A 13-byte value that names its round: with a 3-byte key, a
    /// 32-byte entry (16-byte header + 3 + 13), 16 to a sector.
    static func value(_ round: Int) -> [UInt8] {
        let digits = Array(String(round).utf8)
        return [UInt8](repeating: UInt8(ascii: "."), count: 13 - digits.count) + digits
    }

    /// The sectors in which `key` followed by `value` (an entry's key and
    /// value, contiguous after its header) occurs on flash, one per copy.
    static func sectors(holding key: String, _ value: [UInt8], in flash: RAMFlash) -> [Int] {
        let needle = Array(key.utf8) + value
        let bytes = flash.contents
        return (0...(bytes.count - needle.count))
            .filter { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
            .map { $0 / flash.sectorSize }
    }

    /// Sectors that are erased and empty (the reserve).
    static func erasedSectors(_ store: KeyValueStore<RAMFlash>, _ geometry: StoreGeometry) -> [Int] {
        (0..<geometry.sectorCount).filter {
            let usage = store.usage(ofSector: $0)
            return usage.writableBytes == geometry.sectorSize && usage.validBytes == 0 && usage.reclaimableBytes == 0
        }
    }

    @Test("collecting a sector that holds only stale data erases it without copying anything")
    func staleSectorIsErasedWithoutCopies() throws {
        let geometry = Self.geometry
        try #require(geometry.entrySize(keyLength: 3, valueLength: 13) == 32)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        // 17 versions of one key: the first 16 fill a sector, the 17th opens another.
        for round in 0...16 { try store.put("key", Self.value(round)) }
        let stale = try #require((0..<4).first { store.usage(ofSector: $0).reclaimableBytes == 512 })
        #expect(store.usage(ofSector: stale).validBytes == 0)
        #expect(store.storageStats.reclaimableBytes == 16 * 32)

        flash.resetCounters()
        try store.partialMaintenance()
        #expect(flash.counters.writeCalls == 0, "nothing is live in the sector: nothing to copy")
        #expect(flash.counters.sectorsErased == 1 && flash.eraseCounts[stale] == 1)
        #expect(store.usage(ofSector: stale).writableBytes == 512)
        #expect(store.storageStats.reclaimableBytes == 0 && store.storageStats.sectorEraseCount == 1)
        #expect(store.invariantViolations().isEmpty)
        #expect(try storeValue(store, "key") == Self.value(16))
    }

    @Test("collecting a sector with live data moves the live entries, then erases it")
    func liveEntriesAreMovedBeforeTheErase() throws {
        let geometry = Self.geometry
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("aaa", Self.value(1))
        try store.put("bbb", Self.value(2))
        try store.put("bbb", Self.value(3))  // one stale entry beside two live ones
        let sector = try #require((0..<4).first { store.usage(ofSector: $0).validBytes > 0 })
        let usage = store.usage(ofSector: sector)
        #expect(usage.validBytes == 64 && usage.reclaimableBytes == 32 && usage.writableBytes == 512 - 96)

        try store.partialMaintenance()
        #expect(flash.eraseCounts[sector] == 1)
        #expect(store.usage(ofSector: sector).writableBytes == 512)
        #expect(store.storageStats.inUseBytes == 64 && store.storageStats.reclaimableBytes == 0)
        #expect(Self.sectors(holding: "aaa", Self.value(1), in: flash).count == 1)
        #expect(Self.sectors(holding: "bbb", Self.value(2), in: flash).isEmpty, "the stale entry was not copied")
        #expect(store.invariantViolations().isEmpty)
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeContents(reopened) == [Array("aaa".utf8): Self.value(1), Array("bbb".utf8): Self.value(3)])
    }

    @Test("writes collect as they need space, and the byte accounting adds up to the partition")
    func writesCollectOnDemand() throws {
        let geometry = Self.geometry
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        // 4 keys updated in turn: far more versions than the partition holds.
        for round in 0..<200 {
            let key = "k\(round % 4)x"
            try store.put(key, Self.value(round))
            #expect(store.lastWriteState == .committed)
            let stats = store.storageStats
            // writableBytes leaves out the reserved erased sector.
            #expect(stats.writableBytes + stats.inUseBytes + stats.reclaimableBytes + 512 == geometry.partitionSize,
                    "round \(round): \(stats)")
            #expect(stats.inUseBytes == min(round + 1, 4) * 32, "round \(round)")
            #expect(!Self.erasedSectors(store, geometry).isEmpty, "round \(round)")
        }
        #expect(store.storageStats.sectorEraseCount > 0)
        #expect(store.storageStats.sectorEraseCount == flash.counters.sectorsErased)
        #expect(store.invariantViolations().isEmpty)
        for key in 0..<4 { #expect(try storeValue(store, "k\(key)x") == Self.value(196 + key)) }
    }

    @Test("a write never takes the last erased sector: new keys stop at the other sectors' room")
    func lastErasedSectorIsNeverWritten() throws {
        let geometry = Self.geometry
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        // Nothing is ever stale, so nothing can be reclaimed: (4 - 1) x 512 / 32 keys fit.
        let fitting = (geometry.sectorCount - 1) * geometry.sectorSize / 32
        for index in 0..<fitting {
            try store.put("k\(String(index + 10))", Self.value(index))
            #expect(Self.erasedSectors(store, geometry).count >= 1, "key \(index)")
        }
        #expect(store.storageStats.writableBytes == 0)
        #expect(throws: KVSError.resourceExhausted) { try store.put("one", Self.value(99)) }
        #expect(store.lastWriteState == .notWritten)
        #expect(Self.erasedSectors(store, geometry).count == 1)
        #expect(store.invariantViolations().isEmpty)
        // Collection may have moved live data looking for room; every key keeps its value.
        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.count == fitting)
        for index in 0..<fitting { #expect(try storeValue(reopened, "k\(String(index + 10))") == Self.value(index)) }
    }

    @Test("collecting the two sectors of a key's copies one after the other keeps the copies apart")
    func consecutiveCollectionsKeepCopiesApart() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 5, flashAlignment: 16, redundancy: 2)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        // Both copies of every version pair up in the same two sectors, each
        // holding "xxx" live and stale versions of "yyy".
        try store.put("xxx", Self.value(0))
        for round in 1...3 { try store.put("yyy", Self.value(round)) }
        // The first collection moves one copy of each key into an erased
        // sector, which then has room and nothing reclaimable: the second
        // collection must not put the other copy there too.
        try store.partialMaintenance()
        try store.partialMaintenance()
        #expect(store.storageStats.sectorEraseCount == 2 && store.storageStats.reclaimableBytes == 0)
        #expect(store.invariantViolations().isEmpty)
        for (key, value) in [("xxx", Self.value(0)), ("yyy", Self.value(3))] {
            let sectors = Self.sectors(holding: key, value, in: flash)
            #expect(sectors.count == 2 && Set(sectors).count == 2, "\(key) in sectors \(sectors)")
        }
    }

    /// (redundancy, keys written once): the cold keys take 1600 and 1056 of
    /// the 2560 bytes outside the reserve, leaving the hot keys room to churn.
    @Test("relocated copies stay in distinct sectors", arguments: [(2, 25), (3, 11)])
    func relocatedCopiesStayApart(redundancy: Int, coldKeys: Int) throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 6, flashAlignment: 16, redundancy: redundancy)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        var current: [String: [UInt8]] = [:]
        // Keys written once fill most of the room, so sectors mix them with
        // stale versions of the hot keys and collection must move them.
        for index in 0..<coldKeys {
            try store.put("c\(index + 10)", Self.value(index))
            current["c\(index + 10)"] = Self.value(index)
        }
        var collectionsWithLiveData = 0
        for round in 0..<150 {
            let key = "h\(round % 3)x"
            let validBefore = (0..<6).map { store.usage(ofSector: $0).validBytes }
            let erasesBefore = flash.eraseCounts
            try store.put(key, Self.value(round))
            current[key] = Self.value(round)
            for sector in 0..<6 where flash.eraseCounts[sector] > erasesBefore[sector] && validBefore[sector] > 0 {
                collectionsWithLiveData += 1
            }
            #expect(store.invariantViolations().isEmpty, "round \(round)")
            // Independently of the store's own check: each key's current entry is on flash once per copy.
            for (key, value) in current where round % 10 == 9 || key.hasPrefix("h") {
                let sectors = Self.sectors(holding: key, value, in: flash)
                #expect(sectors.count == redundancy && Set(sectors).count == redundancy,
                        "round \(round): \(key) in sectors \(sectors)")
            }
        }
        try #require(collectionsWithLiveData > 0, "the workload must make collection move live copies")
        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.lastScan == ScanReport())
        #expect(try storeContents(reopened) == Dictionary(uniqueKeysWithValues: current.map { (Array($0.key.utf8), $0.value) }))
    }
}
