import FlashKVS
import Testing

@Suite("Invariant check")
struct InvariantTests {
    func openStore(_ flash: RAMFlash, redundancy: Int = 2) throws -> KeyValueStore<RAMFlash> {
        let store = try KeyValueStore(partition: FlashPartition(flash), format: EntryFormat(magic: 0x1b2c_3d4e, checksum: .crc16),
                                      capacity: 8, redundancy: redundancy)
        try store.initialize()
        return store
    }

    static func offset(of bytes: [UInt8], in flash: RAMFlash) -> Int? {
        let contents = flash.contents
        return (0...(contents.count - bytes.count)).first { Array(contents[$0..<($0 + bytes.count)]) == bytes }
    }

    @Test("holds after writes, deletes and maintenance")
    func holdsOnAHealthyStore() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try openStore(flash)
        for round in 0..<40 {
            try store.put("key\(round % 5)", [UInt8](repeating: UInt8(round), count: 10 + round))
            if round % 7 == 6 { try store.delete("key\(round % 5)") }
            #expect(store.invariantViolations().isEmpty, "round \(round)")
        }
        try store.heavyMaintenance()
        #expect(store.invariantViolations().isEmpty)
    }

    @Test("finds flash changed behind the store's back")
    func findsDamage() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        let store = try openStore(flash)
        try store.put("key", Array("value".utf8))
        let value = try #require(Self.offset(of: Array("value".utf8), in: flash))
        flash[value + 1] ^= 0x01  // a value byte of one copy
        let violations = store.invariantViolations()
        #expect(violations.contains { $0.contains("does not load and verify") }, "\(violations)")

        // Bytes programmed in a sector's erased tail.
        let fresh = RAMFlash(sectorSize: 512, sectorCount: 4)
        let other = try openStore(fresh, redundancy: 1)
        try other.put("key", Array("value".utf8))
        let entry = try #require(Self.offset(of: Array("value".utf8), in: fresh))
        fresh[entry / 512 * 512 + 500] = 0  // in the tail of the sector holding the entry
        #expect(other.invariantViolations().contains { $0.contains("not erased from its writable address") })
    }
}
