import FlashKVS
import Testing

/// Where new entries go: copies in distinct sectors, one erased sector kept
/// in reserve, and updates of values large next to the sectors.
@Suite("Placement of new entries")
struct PlacementTests {
    /// 6 x 2 KiB, alignment 64, redundancy 3: three sectors hold a copy
    /// of every key (1600 B each, 448 B left), three are erased. A new
    /// version of the 640-byte entry fits in only two sectors beside the
    /// reserve, so greedy placement (pw_kvs's) refuses it; the fault sweep
    /// reached this layout after cuts that the history without them did
    /// not. Its third copy fits once the old version is released.
    static let geometry = StoreGeometry(sectorSize: 2048, sectorCount: 6, flashAlignment: 64, redundancy: 3)

    /// Writes `big` (a 640-byte entry) and keys of 320-byte entries until
    /// each copy sector holds 1600 bytes; returns the store and the values.
    static func fullCopySectors() throws -> (KeyValueStore<RAMFlash>, RAMFlash, [String: [UInt8]]) {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        var values: [String: [UInt8]] = ["big": [UInt8](repeating: 1, count: 640 - 16 - 3)]
        try store.put("big", values["big"]!)
        for index in 0..<3 {
            let key = "k\(index)", value = [UInt8](repeating: UInt8(10 + index), count: 320 - 16 - 2)
            try store.put(key, value)
            values[key] = value
        }
        return (store, flash, values)
    }

    @Test("an update whose copies fit only after the old version is released succeeds, with every copy")
    func largeUpdateBesideFullSectors() throws {
        let (store, flash, values) = try Self.fullCopySectors()
        let used = (0..<6).map { store.usage(ofSector: $0) }
        try #require(used.filter { $0.validBytes == 1600 && $0.writableBytes == 448 }.count == 3, "\(used)")
        try #require(used.filter { $0.writableBytes == 2048 }.count == 3, "\(used)")

        let new = [UInt8](repeating: 2, count: 640 - 16 - 3)
        try store.put("big", new)
        #expect(store.lastWriteState == .committed)
        #expect(store.invariantViolations().isEmpty)
        #expect(try storeValue(store, "big") == new)

        // A restart finds every copy and every other key.
        let reopened = try Self.geometry.openStore(on: flash)
        #expect(reopened.invariantViolations().isEmpty)
        #expect(try storeValue(reopened, "big") == new)
        for (key, value) in values where key != "big" { #expect(try storeValue(reopened, key) == value) }
        #expect(reopened.storageStats.inUseBytes == 3 * (640 + 3 * 320))
    }

    @Test("a new key that does not fit beside full sectors is refused and changes nothing")
    func largeNewKeyIsRefusedCleanly() throws {
        let (store, flash, values) = try Self.fullCopySectors()
        #expect(throws: KVSError.resourceExhausted) {
            try store.put("new", [UInt8](repeating: 3, count: 640 - 16 - 3))
        }
        #expect(store.lastWriteState == .notWritten)
        #expect(store.invariantViolations().isEmpty)
        // Garbage collection may have moved live data while looking for room; the values are those before.
        let reopened = try Self.geometry.openStore(on: flash)
        #expect(try storeContents(reopened) == Dictionary(uniqueKeysWithValues: values.map { (Array($0.key.utf8), $0.value) }))
    }
}
