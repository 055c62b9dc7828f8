import FlashKVS
import Testing

/// Maintenance: what partial, full and heavy maintenance each reclaim or
/// repair. Partial collects one sector per call; full collects sectors of
/// stale data (everything reclaimable above 70 % use) and restores missing
/// copies; heavy also drops deleted keys and frees their key-table slots.
@Suite("Maintenance")
struct MaintenanceTests {
    /// A 13-byte value: with a 3-byte key, a 32-byte entry (16 + 3 + 13).
    static func value(_ number: Int) -> [UInt8] {
        let digits = Array(String(number).utf8)
        return [UInt8](repeating: UInt8(ascii: "-"), count: 13 - digits.count) + digits
    }

    static func key(_ index: Int) -> String { "k\(String(index + 10))" }  // 3 bytes below 90

    @Test("every maintenance call throws .failedPrecondition before initialize()")
    func maintenanceNeedsAnInitializedStore() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16)
        let store = try geometry.makeStore(on: geometry.makeFlash())
        #expect(throws: KVSError.failedPrecondition) { try store.partialMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try store.fullMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try store.heavyMaintenance() }
    }

    @Test("partial maintenance collects one sector per call, then throws .notFound when nothing is reclaimable")
    func partialMaintenanceCollectsOneSectorPerCall() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 6, flashAlignment: 16)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        #expect(throws: KVSError.notFound) { try store.partialMaintenance() }  // an empty store

        // 3 x 16 + 1 versions of one key: three sectors of stale data, the last version in a fourth.
        for round in 0...48 { try store.put("key", Self.value(round)) }
        try #require(store.storageStats.sectorEraseCount == 0)
        let staleSectors = (0..<6).filter { store.usage(ofSector: $0).reclaimableBytes == 512 }
        #expect(staleSectors.count == 3)
        for call in 1...3 {
            try store.partialMaintenance()
            #expect(store.storageStats.sectorEraseCount == call)
            #expect(store.storageStats.reclaimableBytes == (3 - call) * 512)
            #expect(store.invariantViolations().isEmpty)
        }
        #expect(staleSectors.allSatisfy { flash.eraseCounts[$0] == 1 })
        let before = flash.contents
        #expect(throws: KVSError.notFound) { try store.partialMaintenance() }
        #expect(flash.contents == before)
        #expect(try storeValue(store, "key") == Self.value(48))
    }

    /// 4 x 512 B: 70 % of 2048 bytes is 1433.6. `keys` 32-byte entries, then
    /// a second version of the first key, whose stale first version stays in
    /// a sector full of live entries (no sector holds only stale data).
    @Test("full maintenance collects sectors holding live data only when over 70 % of the partition is in use",
          arguments: [(keys: 44, collects: false), (keys: 45, collects: true)])
    func fullMaintenanceThreshold(keys: Int, collects: Bool) throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16)
        #expect((keys * 32 > geometry.partitionSize * 7 / 10) == collects)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for index in 0..<keys { try store.put(Self.key(index), Self.value(index)) }
        try store.put(Self.key(0), Self.value(1000))
        try #require(store.storageStats.reclaimableBytes == 32 && store.storageStats.inUseBytes == keys * 32)
        try #require((0..<4).allSatisfy { store.usage(ofSector: $0).reclaimableBytes == 0 || store.usage(ofSector: $0).validBytes > 0 })

        try store.fullMaintenance()
        #expect(store.storageStats.reclaimableBytes == (collects ? 0 : 32))
        #expect((store.storageStats.sectorEraseCount > 0) == collects)
        #expect(store.invariantViolations().isEmpty)
        var expected = Dictionary(uniqueKeysWithValues: (0..<keys).map { (Array(Self.key($0).utf8), Self.value($0)) })
        expected[Array(Self.key(0).utf8)] = Self.value(1000)
        #expect(try storeContents(store) == expected)
        #expect(try storeContents(try geometry.openStore(on: flash)) == expected)
    }

    @Test("heavy maintenance drops tombstones from flash and frees their key-table slots")
    func heavyMaintenanceFreesDeletedSlots() throws {
        // Collection on write disabled: a put never makes room in the key table itself.
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16, capacity: 8, options: .gcDisabled)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for index in 0..<8 { try store.put(Self.key(index), Self.value(index)) }
        for index in [1, 4, 6] { try store.delete(Self.key(index)) }
        #expect(store.count == 5 && store.totalEntriesWithDeleted == 8)
        #expect(throws: KVSError.resourceExhausted) { try store.put("new", Self.value(99)) }

        try store.heavyMaintenance()
        #expect(store.count == 5 && store.totalEntriesWithDeleted == 5)
        // Only the five live entries remain: 5 x 32 bytes, nothing reclaimable.
        #expect(store.storageStats.inUseBytes == 5 * 32 && store.storageStats.reclaimableBytes == 0)
        #expect(store.invariantViolations().isEmpty)
        // A restart finds no tombstone on flash either.
        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.totalEntriesWithDeleted == 5 && reopened.lastScan == ScanReport())
        for index in [1, 4, 6] { #expect(throws: KVSError.notFound) { try storeValue(reopened, Self.key(index)) } }

        // The three freed slots take three new keys, and no more.
        for index in 20..<23 { try store.put(Self.key(index), Self.value(index)) }
        #expect(throws: KVSError.resourceExhausted) { try store.put("new", Self.value(99)) }
        #expect(store.count == 8 && store.invariantViolations().isEmpty)
    }

    @Test("full maintenance restores missing redundant copies; partial maintenance does not under manual recovery")
    func fullMaintenanceRestoresMissingCopies() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 5, flashAlignment: 16, redundancy: 2)
        let flash = geometry.makeFlash()
        let writer = try geometry.openStore(on: flash)
        for index in 0..<4 { try writer.put(Self.key(index), Self.value(index)) }
        // Lose one sector of copies behind the store's back.
        let lost = try #require((0..<5).first { writer.usage(ofSector: $0).validBytes > 0 })
        var partition = try FlashPartition(flash)
        try partition.erase(at: lost * 512)

        var manual = geometry
        manual.options = .manualRecovery
        let store = try manual.makeStore(on: flash)
        #expect(throws: KVSError.dataLoss) { try store.initialize() }
        #expect(store.lastScan.keysMissingCopies == 4 && store.state == .needsMaintenance)
        #expect(throws: KVSError.notFound) { try store.partialMaintenance() }  // nothing reclaimable, no repair
        #expect(store.storageStats.missingRedundantEntriesRecovered == 0 && store.state == .needsMaintenance)

        try store.fullMaintenance()
        #expect(store.state == .ready && !store.errorDetected)
        #expect(store.storageStats.missingRedundantEntriesRecovered == 4)
        #expect(store.storageStats.inUseBytes == 4 * 2 * 32)
        #expect(store.invariantViolations().isEmpty)
        let reopened = try manual.openStore(on: flash)
        #expect(reopened.lastScan == ScanReport())
        for index in 0..<4 { #expect(try storeValue(reopened, Self.key(index)) == Self.value(index)) }
        try store.put(Self.key(0), Self.value(50))
    }

    @Test("maintenance keeps every value, on a store churned by writes and deletes")
    func maintenanceKeepsContents() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 5, flashAlignment: 16, redundancy: 2)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        var model: [[UInt8]: [UInt8]] = [:]
        var generator = StoreSplitMix64(seed: 18)
        for step in 0..<120 {
            let key = Self.key(Int(generator.next() % 12))
            if generator.next() % 4 == 0 {
                if model.removeValue(forKey: Array(key.utf8)) != nil { try store.delete(key) }
            } else {
                try store.put(key, Self.value(step))
                model[Array(key.utf8)] = Self.value(step)
            }
            switch step % 10 {
            case 3:
                do throws(KVSError) { try store.partialMaintenance() } catch .notFound {}  // documented: nothing reclaimable
            case 6: try store.fullMaintenance()
            case 9: try store.heavyMaintenance()
            default: break
            }
            #expect(store.invariantViolations().isEmpty, "step \(step)")
            #expect(try storeContents(store) == model, "step \(step)")
        }
        #expect(try storeContents(try geometry.openStore(on: flash)) == model)
    }
}
