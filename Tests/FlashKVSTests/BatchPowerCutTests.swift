import FlashKVS
import Testing

/// A power cut at every program and erase of a batch, in every
/// interruption state, then a second cut at every operation of the
/// rollback: after init the batch is all there or not at all (issue 22).
@Suite("Batch power cuts")
struct BatchPowerCutTests {
    typealias Store = KeyValueStore<RAMFlash>

    static let before: [String: [UInt8]] = [
        "wifi/ssid": Array("old-ssid".utf8), "wifi/pass": Array("old-password".utf8), "other": [7, 7, 7],
        "doomed": [1, 2, 3],
    ]
    static let after: [String: [UInt8]] = [
        "wifi/ssid": Array("new-ssid-value".utf8), "wifi/pass": [UInt8](repeating: 0x5A, count: 90),
        "other": [7, 7, 7], "fresh": [4, 4],
    ]

    static func batch(_ batch: inout Store.Batch) throws(KVSError) {
        try batch.put("wifi/ssid", after["wifi/ssid"]!)
        try batch.put("wifi/pass", after["wifi/pass"]!)
        try batch.delete("doomed")
        try batch.put("fresh", after["fresh"]!)
    }

    static func open(_ flash: RAMFlash, _ geometry: StoreGeometry) throws -> Store {
        let store = try geometry.makeStore(on: flash)
        store.enableBatches()
        try store.initialize()
        return store
    }

    /// The flash before the batch: the `before` keys, plus stale versions
    /// so that the batch needs garbage collection when `crowded`.
    static func prepared(_ geometry: StoreGeometry, crowded: Bool) throws -> RAMFlash {
        let flash = geometry.makeFlash()
        let store = try open(flash, geometry)
        for (key, value) in before.sorted(by: { $0.key < $1.key }) { try store.put(key, value) }
        if crowded {
            for round in 0..<30 {
                do { try store.put("other", [UInt8(round), 7, 7]); try store.put("other", [7, 7, 7]) } catch {
                    Issue.record("round \(round) \(error) \(store.state) \(store.lastWriteState)"); throw error
                }
            }
        }
        return flash
    }

    static func copy(_ flash: RAMFlash) -> RAMFlash {
        let clone = RAMFlash(sectorSize: flash.sectorSize, sectorCount: flash.sectorCount, alignment: flash.alignment)
        clone.load(flash.contents.span)
        return clone
    }

    /// Whether the store shows exactly `before` or exactly `after`.
    static func state(of store: Store) throws -> String? {
        var shown: [String: [UInt8]] = [:]
        for item in store.items {
            let key = String(decoding: store.key(of: item), as: UTF8.self)
            shown[key] = (try? store.get(key)) ?? Array("unreadable \(store.key(of: item))".utf8)
        }
        if shown == before { return "before" }
        if shown == after { return "after" }
        return nil
    }

    static let geometries: [StoreGeometry] = [
        StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16),
        StoreGeometry(sectorSize: 512, sectorCount: 6, flashAlignment: 16, redundancy: 2),
        StoreGeometry(sectorSize: 256, sectorCount: 6, flashAlignment: 8, checksummed: false),
    ]

    @Test("a cut at every operation of a batch, then at every operation of the rollback",
          arguments: geometries, [false, true])
    func cutEverywhere(_ geometry: StoreGeometry, crowded: Bool) throws {
        let base = try Self.prepared(geometry, crowded: crowded)
        // Count the batch's programs and erases.
        let dry = Self.copy(base)
        let dryStore = try Self.open(dry, geometry)
        let start = dry.mediumOperations
        do { try dryStore.commit(Self.batch) } catch { Issue.record("dry commit \(error) \(dryStore.state)"); throw error }
        let operations = dry.mediumOperations - start
        #expect(operations >= 6)
        var outcomes: [String: Int] = [:]
        for cut in 0..<operations {
            for interruption in Interruption.allCases {
                let flash = Self.copy(base)
                let store = try Self.open(flash, geometry)
                flash.schedulePowerCut(atOperation: cut, interruption: interruption)
                #expect(throws: KVSError.self) { try store.commit(Self.batch) }
                flash.restorePower()
                let context = "\(geometry) cut \(cut) \(interruption)"
                // A second cut at every operation of the recovery.
                let recovery = Self.copy(flash)
                let recoveryOperations = try {
                    let probe = Self.copy(flash)
                    let before = probe.mediumOperations
                    _ = try Self.open(probe, geometry)
                    return probe.mediumOperations - before
                }()
                var firstState: String? = nil
                for second in -1..<recoveryOperations {
                    let twice = Self.copy(recovery)
                    if second >= 0 {
                        twice.schedulePowerCut(atOperation: second, interruption: .programPrefix)
                        let interrupted = try geometry.makeStore(on: twice)
                        interrupted.enableBatches()
                        _ = try? interrupted.initialize()
                        twice.restorePower()
                    }
                    let reopened = try geometry.makeStore(on: twice)
                    reopened.enableBatches()
                    do { try reopened.initialize() } catch {
                        Issue.record("\(context) second cut \(second): init \(error) \(reopened.lastScan)")
                        continue
                    }
                    let state = try Self.state(of: reopened)
                    if state == nil {
                        var shown: [String] = []
                        for item in reopened.items { shown.append("\(reopened.key(of: item))") }
                        Issue.record("\(context) second cut \(second): partly applied \(shown) \(reopened.lastScan)")
                    }
                    if second == -1 { firstState = state } else {
                        #expect(state == firstState, "\(context) second cut \(second): rollback changed outcome")
                    }
                    #expect(reopened.invariantViolations() == [], "\(context) second cut \(second)")
                    try reopened.put("later", [1])
                    #expect(try reopened.get("later") == [1])
                    outcomes[state ?? "partial", default: 0] += 1
                }
            }
        }
        #expect(outcomes["before", default: 0] > 0 && outcomes["after", default: 0] > 0, "\(outcomes)")
    }
}
