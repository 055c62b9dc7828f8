@testable import FlashKVS
import Testing

/// `Placement`'s space searches against a model of pw_kvs's `Sectors::Find`
/// (spec 4.5): one pass over every sector in rotation order after
/// `lastNewSector`. FlashKVS makes two passes (partly written sectors from a
/// bitmap, then empty ones); the chosen sector and the new `lastNewSector`
/// must be the same for every table.
@Suite("Placement against pw_kvs's one-pass search")
struct PlacementModelTests {
    enum Kind: CaseIterable { case empty, full, partlyWritten, corrupt }

    /// The model: the result and the new `lastNewSector` (nothing avoided).
    static func modelFind(
        relocation: Bool, size: Int, sectorSize: Int, writable: [Int], valid: [Int], corrupt: [Bool], last: Int
    ) -> (sector: Int?, last: Int) {
        let count = writable.count
        var firstEmpty: Int? = nil, secondEmptySeen = false, mostReclaimable: Int? = nil
        func reclaimable(_ sector: Int) -> Int { sectorSize - valid[sector] - (corrupt[sector] ? 0 : writable[sector]) }
        for step in 0..<count {
            let sector = (last + 1 + step) % count
            if corrupt[sector] { continue }
            let empty = writable[sector] == sectorSize
            if !empty && writable[sector] >= size {
                if !relocation || reclaimable(sector) == 0 { return (sector, last) }
                if mostReclaimable.map({ reclaimable($0) < reclaimable(sector) }) ?? true { mostReclaimable = sector }
            }
            if empty {
                if firstEmpty == nil { firstEmpty = sector } else if !relocation { secondEmptySeen = true }
            }
        }
        if let firstEmpty, relocation || secondEmptySeen { return (firstEmpty, firstEmpty) }
        return (relocation ? mostReclaimable : nil, last)
    }

    @Test("both searches choose as pw_kvs does, for random tables of 1 to 70 sectors")
    func searchesMatchTheModel() {
        var random = SystemRandomNumberGenerator()
        let sectorSize = 4096
        let capacity = 80
        let sectorBytes = SectorTable.byteCount(capacity: capacity, sectorSize: sectorSize)
        let keyBytes = KeyTable.byteCount(capacity: 1, redundancy: 1, narrowAddresses: true)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: sectorBytes + keyBytes, alignment: 16)
        let reserved = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { storage.deallocate(); reserved.deallocate() }
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: sectorBytes + keyBytes)
        let sectors = SectorTable(at: storage, sectorSize: sectorSize, capacity: capacity)
        let keyTable = KeyTable(at: storage + sectorBytes, capacity: 1, redundancy: 1, narrowAddresses: true)
        let placement = Placement(sectors: sectors, keyTable: keyTable, reserved: reserved)
        var checked = 0
        for round in 0..<4000 {
            let count = round < 70 ? round + 1 : Int.random(in: 1...70, using: &random)
            sectors.reset(count: count)
            var writable = [Int](repeating: sectorSize, count: count)
            var valid = [Int](repeating: 0, count: count)
            var corrupt = [Bool](repeating: false, count: count)
            for sector in 0..<count {
                switch Kind.allCases.randomElement(using: &random)! {
                case .empty: break
                case .full: writable[sector] = 0
                case .partlyWritten: writable[sector] = Int.random(in: 1..<sectorSize, using: &random) & ~15
                case .corrupt: corrupt[sector] = true
                }
                if writable[sector] == 0 && !corrupt[sector] && Bool.random(using: &random) {
                    writable[sector] = 16 * Int.random(in: 1...4, using: &random)  // a small tail
                }
                let room = sectorSize - (corrupt[sector] ? 0 : writable[sector])
                valid[sector] = Bool.random(using: &random) ? room : Int.random(in: 0...room, using: &random)
                sectors.setWritable(sector, writable[sector])
                sectors.addValid(sector, valid[sector])
                if corrupt[sector] { sectors.markCorrupt(sector) }
            }
            #expect(sectors.partlyWrittenBitsMatchCounts)
            let last = Int.random(in: 0..<count, using: &random)
            let size = [16, 32, 64, 256, 4096, 4112].randomElement(using: &random)!
            for relocation in [false, true] {
                sectors.lastNewSector = last
                let found = relocation
                    ? placement.findSpaceDuringGarbageCollection(size: size, avoiding: AvoidList())
                    : placement.findSpace(size: size, avoiding: AvoidList())
                let expected = Self.modelFind(relocation: relocation, size: size, sectorSize: sectorSize,
                                              writable: writable, valid: valid, corrupt: corrupt, last: last)
                #expect(found == expected.sector && sectors.lastNewSector == expected.last,
                        "\(count) sectors, size \(size), last \(last), relocation \(relocation): \(String(describing: found)), model \(String(describing: expected.sector))")
                checked += 1
            }
        }
        #expect(checked == 8000)
    }
}
