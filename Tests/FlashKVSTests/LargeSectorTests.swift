import FlashKVS
import Testing

/// Sectors above 64 KiB (issue 21): STM32F4/F7 internal flash has 128 KiB
/// sectors, CFI NOR 256 KiB blocks. The sector table keeps 32-bit counts
/// for such sectors (16-bit ones up to 65534 bytes); values stay below
/// 65535 bytes (the header's 16-bit value size, 0xFFFF marking a
/// tombstone) and an entry fits one sector.
@Suite("Sectors above 64 KiB")
struct LargeSectorTests {
    static let kib128 = StoreGeometry(sectorSize: 128 * 1024, sectorCount: 4, flashAlignment: 16)
    /// 4 x 256 KiB: exactly 1 MiB, the largest partition with 16-bit addresses in the key table.
    static let kib256 = StoreGeometry(sectorSize: 256 * 1024, sectorCount: 4, flashAlignment: 16)
    static let kib128Redundant = StoreGeometry(sectorSize: 128 * 1024, sectorCount: 5, flashAlignment: 16, redundancy: 2)

    static let modelScenarios: [StoreModelScenario] = [
        StoreModelScenario(name: "128 KiB sectors, values up to 8 KiB", geometry: kib128, operations: 300, seed: 21,
                           newKeyOneIn: 6, heavyMaintenanceOneIn: 200, maxValueLength: 8192),
        StoreModelScenario(name: "256 KiB sectors (1 MiB partition), values up to 16 KiB", geometry: kib256,
                           operations: 250, seed: 22, newKeyOneIn: 6, heavyMaintenanceOneIn: 200, maxValueLength: 16384),
        StoreModelScenario(name: "128 KiB sectors, redundancy 2, values up to 8 KiB", geometry: kib128Redundant,
                           operations: 250, seed: 23, newKeyOneIn: 6, heavyMaintenanceOneIn: 150, maxValueLength: 8192),
    ]

    @Test("random operations agree with a Dictionary, garbage collection included", arguments: modelScenarios)
    func modelAgrees(scenario: StoreModelScenario) throws {
        let harness = try StoreModelHarness(geometry: scenario.geometry, seed: scenario.seed)
        try harness.run(scenario)
        #expect(harness.tally["put", default: 0] > scenario.operations / 6, "\(harness.tally)")
        // Values averaging half the maximum over so many puts fill the partition more than once.
        #expect(harness.flash.eraseCounts.reduce(0, +) > 0, "garbage collection ran")
    }

    @Test("a sector holds more than 65535 bytes of live entries, counted exactly, also after a restart")
    func validBytesBeyondSixteenBits() throws {
        let geometry = Self.kib128
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        #expect(store.usage(ofSector: 0).writableBytes == 128 * 1024)
        let value = [UInt8](repeating: 0x5a, count: 30000)
        for index in 0..<3 { try store.put("k\(index)", value) }
        let entry = geometry.entrySize(keyLength: 2, valueLength: 30000)
        let sector = try #require((0..<4).first { store.usage(ofSector: $0).validBytes > 0 })
        for opened in [store, try geometry.openStore(on: flash)] {
            let usage = opened.usage(ofSector: sector)
            #expect(usage.validBytes == 3 * entry && 3 * entry > 65535)
            #expect(usage.writableBytes == 128 * 1024 - 3 * entry)
            #expect(usage.reclaimableBytes == 0 && !usage.isCorrupt)
        }
        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.invariantViolations().isEmpty)
    }

    @Test("the largest value is 65534 bytes: the header's size field, not the sector, is the limit")
    func largestValue() throws {
        let geometry = Self.kib128
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        #expect(store.maxKeyValueSize == 63 + 65534)
        let largest = (0..<65534).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(throws: KVSError.invalidArgument) { try store.put("big", largest + [UInt8(0)]) }
        #expect(store.lastWriteState == .notWritten)
        try store.put("big", largest)
        try store.put("big", Array(largest.reversed()))
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeValue(reopened, "big") == Array(largest.reversed()))
        #expect(reopened.storageStats.reclaimableBytes == geometry.entrySize(keyLength: 3, valueLength: 65534))
    }

    @Test("a damaged sector is marked corrupt and repaired from the other copy")
    func corruptSectorRepaired() throws {
        let geometry = Self.kib128Redundant
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        let value = [UInt8](repeating: 0x33, count: 40000)
        try store.put("a", value)
        try store.put("b", value)
        // Clear a value byte of the first copy on flash.
        let contents = flash.contents
        let start = try #require((0..<contents.count - 8).first { contents[$0..<($0 + 8)].allSatisfy { $0 == 0x33 } })
        let zero: [UInt8] = [0]
        flash.load(zero.span, at: start + 100)
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeValue(reopened, "a") == value)
        #expect(try storeValue(reopened, "b") == value)
        try reopened.fullMaintenance()
        #expect(reopened.storageStats.corruptSectorsRecovered >= 1)
        #expect(reopened.invariantViolations().isEmpty)
        #expect(!(0..<5).contains { reopened.usage(ofSector: $0).isCorrupt })
    }

    // Power cuts on these geometries run in the release sweep
    // (SweepPlan.largeSectorGeometries: `swift run -c release flashkvs-sweep --only power 131072 262144`);
    // in a debug build each cut point rewrites up to 768 KiB, too slow for `swift test`.
}
