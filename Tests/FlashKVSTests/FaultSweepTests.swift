import Testing
import FlashKVS
import FlashKVSStress

/// The adversarial fault sweep of issue 17, bounded: generated workloads on
/// a few geometries under every power cut, the read-fault sweep on one
/// small workload, a short random fault run; and proof that the harness's
/// checks can fail. `swift run -c release flashkvs-sweep` runs it all.
@Suite("Fault sweep (issue 17)")
struct FaultSweepTests {
    static let geometries = [
        SweepGeometry(sectorSize: 256, sectorCount: 4, alignment: 8, redundancy: 1, checksum: .crc16),
        SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 2, checksum: .crc16),
        SweepGeometry(sectorSize: 512, sectorCount: 4, alignment: 64, redundancy: 1, checksum: .none),
        SweepGeometry(sectorSize: 1024, sectorCount: 5, alignment: 16, redundancy: 3, checksum: .crc16),
    ]

    static func report(_ violations: [String]) -> Comment {
        Comment(rawValue: "\(violations.count) violations, first:\n" + violations.prefix(5).joined(separator: "\n"))
    }

    // MARK: The bounded sweeps

    @Test("power cuts at every program and erase of a generated workload", arguments: geometries)
    func generatedPowerCuts(geometry: SweepGeometry) {
        let workload = SweepWorkload.generated(for: geometry, rotations: 1, maxOperations: 20)
        let result = PowerLossSweep(workload, secondCutInterval: 4).run()
        #expect(result.refusedByAPI == nil)
        #expect(result.cutPoints > 10)
        #expect(result.secondCuts > 0)
        #expect(result.violations.isEmpty, Self.report(result.violations))
    }

    @Test("every read of a small workload fails once, and 3 times in a row")
    func readFaults() {
        let workload = SweepWorkload.generated(for: Self.geometries[0], rotations: 1, maxOperations: 14, tag: "reads")
        let result = ReadFaultSweep(workload).run()
        #expect(result.readCalls > 50)
        #expect(result.scenarios == 2 * result.readCalls)
        #expect(result.violations.isEmpty, Self.report(result.violations))
    }

    @Test("random faults, 1 in 50 flash calls, checked after every operation")
    func randomFaults() {
        let geometry = SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 1, checksum: .crc16)
        let result = RandomFaultRun(geometry, seed: 1, operations: 300).run()
        #expect(result.faultsFired > 30)
        #expect(result.violations.isEmpty, Self.report(result.violations))
    }

    @Test("with redundancy 2, any one damaged sector of a workload's image is repaired")
    func sectorDamage() {
        let workload = SweepWorkload.generated(for: Self.geometries[1], rotations: 1, maxOperations: 20)
        let result = SectorDamageSweep(workload).run()
        #expect(result.scenarios >= 10)
        #expect(result.violations.isEmpty, Self.report(result.violations))
    }

    // MARK: The generated set

    @Test("the generated geometries and workloads cover what issue 17 asks for")
    func coverage() {
        let geometries = SweepGeometry.generated
        #expect(Set(geometries.map(\.sectorSize)) == [256, 512, 1024, 2048, 4096])
        #expect(Set(geometries.map(\.sectorCount)) == Set(3...8))
        #expect(Set(geometries.map(\.alignment)) == [8, 16, 64])
        #expect(Set(geometries.map(\.redundancy)) == [1, 2, 3])
        #expect(Set(geometries.map(\.checksum)) == [.crc16, .none])
        for redundancy in 1...3 {
            #expect(Set(geometries.filter { $0.redundancy == redundancy }.map(\.sectorCount)).count >= 5)
        }
        // Values up to about half a sector; live data up to about half the usable space.
        let geometry = SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 1, checksum: .crc16)
        let workload = SweepWorkload.generated(for: geometry)
        var live: [String: Int] = [:]
        var deleted = Set<String>()
        var peak = 0, largest = 0
        for operation in workload.operations {
            switch operation {
            case .put(let key, let value):
                live[key] = geometry.entrySize(keyLength: key.utf8.count, valueLength: value.count)
                deleted.remove(key)
                largest = max(largest, value.count)
            case .delete(let key):
                live[key] = geometry.entrySize(keyLength: key.utf8.count, valueLength: 0)
                deleted.insert(key)
            case .heavyMaintenance:
                for key in deleted { live[key] = nil }  // tombstones dropped
                deleted.removeAll()
            default: break
            }
            peak = max(peak, live.values.reduce(0, +))
        }
        #expect(largest > geometry.sectorSize * 2 / 5 && largest <= geometry.sectorSize / 2)
        #expect(peak > geometry.usableBytes * 2 / 5 && peak <= geometry.usableBytes / 2)
        // Deterministic.
        #expect(SweepWorkload.generated(for: geometry).operations.map(\.description) == workload.operations.map(\.description))
    }

    @Test("a geometry the API refuses is reported as refused, not swept")
    func refusedGeometry() {
        // Alignment 512: the entry format cannot express it.
        let workload = SweepWorkload(name: "refused", sectorSize: 1024, sectorCount: 4, alignment: 512, redundancy: 1,
                                     operations: [.put("a", [1])])
        let result = PowerLossSweep(workload).run()
        #expect(result.refusedByAPI != nil)
        #expect(result.scenarios == 0)
        #expect(ReadFaultSweep(workload).run().refusedByAPI != nil)
    }

    // MARK: The checks can fail

    @Test("FaultyFlash counts reads, fails the chosen ones and scrambles every byte of their buffer")
    func faultyFlashScrambles() throws {
        let flash = FaultyFlash(sectorSize: 256, sectorCount: 2, alignment: 8)
        let data = (0..<64).map { UInt8($0) }
        try flash.write(at: 0, data.span)
        flash.failReads(from: 1, count: 2)
        var buffer = [UInt8](repeating: 0, count: 64)
        var span = buffer.mutableSpan
        try flash.read(at: 0, into: &span)
        #expect(buffer == data)
        for _ in 0..<2 {
            var span = buffer.mutableSpan
            #expect(throws: KVSError.deadlineExceeded) { try flash.read(at: 0, into: &span) }
            for index in 0..<64 { #expect(buffer[index] != data[index]) }
        }
        span = buffer.mutableSpan
        try flash.read(at: 0, into: &span)
        #expect(buffer == data)
        #expect(flash.readCalls == 4 && flash.events.count == 2)
    }

    @Test("the agreement check catches RAM tables that no longer match flash")
    func agreementCheckDetectsDivergence() throws {
        let workload = SweepWorkload(name: "agree", sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 1, operations: [])
        let flash = workload.makeFlash()
        let store = try #require(workload.makeStore(flash))
        try store.initialize()
        try store.put("a", [1, 2, 3])
        try store.put("b", [4, 5, 6])
        var freshError: KVSError? = nil
        #expect(StoreAgreement.differences(store, image: workload.copy(of: flash), extraKeys: ["a", "b", "c"],
                                           open: { workload.makeStore($0) }, freshInitError: &freshError).isEmpty)
        // Behind the store's back: a newer "a" on flash (written by another store object).
        let other = try #require(workload.makeStore(flash))
        try other.initialize()
        try other.put("a", [9])
        let differences = StoreAgreement.differences(
            store, image: workload.copy(of: flash), extraKeys: ["a", "b", "c"], open: { workload.makeStore($0) },
            freshInitError: &freshError)
        #expect(differences.contains { $0.contains("get(a)") }, "\(differences)")
    }

    @Test("the generated sweep's checks catch a store that loses data after a cut")
    func generatedSweepDetectsDamage() {
        let workload = SweepWorkload.generated(for: Self.geometries[0], rotations: 1, maxOperations: 12)
        var sweep = PowerLossSweep(workload, secondCutInterval: 0)
        // Sabotage: flip a bit in every written byte, as a store that corrupted its data would.
        sweep.afterCut = { flash in
            for address in 0..<flash.size where flash[address] != 0xFF { flash[address] ^= 0x10 }
        }
        let result = sweep.run()
        #expect(result.violations.count > result.scenarios / 4)
    }
}
