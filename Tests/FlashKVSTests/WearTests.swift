import FlashKVS
import Testing

// Wear leveling: the reference's key_value_store_wear_test (spec 5.11) and
// the sector rotation of spec 4.6, measured with RAMFlash.eraseCounts.

@Suite("Wear leveling (reference key_value_store_wear_test, spec 4.6)")
struct WearTests {
    /// The reference wear-test store: 16 x 512, alignment 16, no checksum.
    static let wearGeometry = StoreGeometry(
        sectorSize: 512, sectorCount: 16, flashAlignment: 16, checksummed: false, magic: 0x1bce_4ad5)

    /// The reference's `test_data`: 470 bytes starting 1, 2, 3, 4, 5, 6.
    static func testData() -> [UInt8] {
        var data = [UInt8](repeating: 0, count: 470)
        data.replaceSubrange(0..<6, with: [1, 2, 3, 4, 5, 6])
        return data
    }

    /// 160 puts of an entry that fills a whole sector (11-byte key, 470-byte
    /// value: 497 bytes padded to 512).
    private func putLargeEntryRepeatedly() throws -> (flash: RAMFlash, store: KeyValueStore<RAMFlash>) {
        let geometry = Self.wearGeometry
        try #require(geometry.entrySize(keyLength: 11, valueLength: 470) == 512)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        var data = Self.testData()
        for _ in 0..<(16 * 10) {
            data[0] &+= 1
            try store.put("large_entry", data)
        }
        #expect(try storeValue(store, "large_entry") == data)
        return (flash, store)
    }

    @Test func repeatedLargeEntryWearsAllSectorsEvenly() throws {
        let (flash, _) = try putLargeEntryRepeatedly()
        let counts = flash.eraseCounts
        let minimum = try #require(counts.min())
        let maximum = try #require(counts.max())
        #expect(minimum >= 7, "every sector is erased at least 7 times: \(counts)")
        #expect(maximum <= minimum + 1, "erase counts differ by at most one: \(counts)")
    }

    @Test func repeatedLargeEntryMatchesTheReferenceEraseCounts() throws {
        let (flash, store) = try putLargeEntryRepeatedly()
        // Spec 4.6: the reference erases sector 1 ten times, the others nine.
        #expect(flash.eraseCounts == [9, 10] + [Int](repeating: 9, count: 14))
        #expect(store.storageStats.sectorEraseCount == 145)
        #expect(flash.counters.sectorsErased == 145)
    }

    @Test func twoPassFillWithLargeAndLargerEntries() throws {
        let geometry = Self.wearGeometry
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        var data = Self.testData()
        // A 432-byte entry, written until the flash is mostly stale data.
        for _ in 0..<16 {
            data[0] &+= 1
            try store.put("key", Array(data.prefix(400)))
        }
        // Then a larger, 496-byte entry, many times.
        for index in 0..<(16 * 200) {
            data[0] &+= 1
            do {
                try store.put("big_key", data)
            } catch {
                Issue.record("put \(index) of big_key failed with \(error)")
                return
            }
        }
        #expect(store.count == 2)
        let counts = flash.eraseCounts
        let average = counts.reduce(0, +) / counts.count
        let maximum = try #require(counts.max())
        #expect(maximum < 2 * average, "the most worn sector stays under twice the average: \(counts)")
        #expect(try storeValue(store, "big_key") == data)
        #expect(try storeValue(store, "key").count == 400)
    }

    // MARK: Rotation (spec 4.6 worked example, trace_gc_rotation_large_entry)

    /// The transaction id of the entry at the start of each sector, nil for
    /// an erased sector.
    private func sectorTransactions(_ flash: RAMFlash, sectorSize: Int, magic: UInt32) -> [UInt32?] {
        (0..<flash.sectorCount).map { sector in
            let base = sector * sectorSize
            let stored = UInt32(flash[base]) | UInt32(flash[base + 1]) << 8 | UInt32(flash[base + 2]) << 16
                | UInt32(flash[base + 3]) << 24
            guard stored == magic else {
                return nil
            }
            return UInt32(flash[base + 12]) | UInt32(flash[base + 13]) << 8 | UInt32(flash[base + 14]) << 16
                | UInt32(flash[base + 15]) << 24
        }
    }

    @Test func newDataRotatesAroundThePartition() throws {
        let geometry = StoreGeometry(
            sectorSize: 512, sectorCount: 4, flashAlignment: 16, checksummed: false, magic: 0x1bce_4ad5)
        // A 5-byte key and a 470-byte value: 491 bytes, padded to 496; one per sector.
        try #require(geometry.entrySize(keyLength: 5, valueLength: 470) == 496)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)

        // Spec 4.6 table: entry per sector (transaction id) and erases per sector after each put.
        let expected: [Int: (sectors: [UInt32?], erases: [Int])] = [
            1: ([nil, 1, nil, nil], [0, 0, 0, 0]),
            2: ([nil, 1, 2, nil], [0, 0, 0, 0]),
            3: ([nil, 1, 2, 3], [0, 0, 0, 0]),
            4: ([4, nil, 2, 3], [0, 1, 0, 0]),
            5: ([4, 5, nil, 3], [0, 1, 1, 0]),
            6: ([4, 5, 6, nil], [0, 1, 1, 1]),
            7: ([nil, 5, 6, 7], [1, 1, 1, 1]),
            12: ([12, nil, 10, 11], [2, 3, 2, 2]),
        ]
        var value = (0..<470).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for put in 1...12 {
            value[0] = UInt8(put)
            try store.put("large", value)
            #expect(try storeValue(store, "large") == value)
            guard let row = expected[put] else { continue }
            let sectors = sectorTransactions(flash, sectorSize: 512, magic: geometry.magic)
            #expect(sectors == row.sectors, "entries per sector after put \(put)")
            #expect(flash.eraseCounts == row.erases, "erases per sector after put \(put)")
            for (sector, transaction) in sectors.enumerated() where transaction == nil {
                let base = sector * 512
                #expect((base..<(base + 512)).allSatisfy { flash[$0] == 0xFF }, "sector \(sector) is erased")
            }
        }
        #expect(store.transactionCount == 12)
    }

    @Test func firstEntryOfAnEmptyFlashGoesToSectorOne() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("key1", Array("value1".utf8))
        let sectors = sectorTransactions(flash, sectorSize: 512, magic: geometry.magic)
        #expect(sectors == [nil, 1, nil, nil])
        // Spec 4.13: 32 bytes in use, the reserve sector not counted as writable.
        let stats = store.storageStats
        #expect(stats.inUseBytes == 32)
        #expect(stats.writableBytes == 1504)
        #expect(stats.reclaimableBytes == 0)
    }
}
