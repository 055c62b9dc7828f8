import FlashKVS
import Testing

// Model-based randomized test (the harness of the reference's
// key_value_store_map_test, spec 5.12): the store and a Dictionary receive
// the same operations and must agree after every step. The random sequence
// comes from a seeded SplitMix64, so every run is the same.

/// One randomized run: a geometry, a seed and the mix of operations.
struct StoreModelScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var geometry: StoreGeometry
    var operations: Int
    var seed: UInt64
    /// One put in `newKeyOneIn` uses a new random key (and always while the
    /// model is empty); the others rewrite a present key.
    var newKeyOneIn: Int = 16
    /// Chance, per operation, of re-initializing with a new store object
    /// (1 in n; 0 never), of full, partial and heavy maintenance.
    var reinitOneIn: Int = 50
    var fullMaintenanceOneIn: Int = 250
    var partialMaintenanceOneIn: Int = 40
    var heavyMaintenanceOneIn: Int = 400
    /// Values are 0 to `maxValueLength - 1` random bytes.
    var maxValueLength: Int = 64

    var testDescription: String { "\(name): \(geometry.testDescription), \(operations) ops, seed \(seed)" }
}

/// The reference's parameter sets (spec 5.12; magic 0xc857e51d, no
/// checksum), then variations over alignment, checksum, redundancy 3 and a
/// small key table.
let storeModelReferenceGeometries: [(name: String, geometry: StoreGeometry)] = [
    ("Basic", StoreGeometry(sectorSize: 4096, sectorCount: 4, flashAlignment: 16, checksummed: false, magic: 0xc857_e51d)),
    ("BasicRedundant", StoreGeometry(
        sectorSize: 4096, sectorCount: 4, flashAlignment: 16, flashSectorCount: 8, redundancy: 2,
        checksummed: false, magic: 0xc857_e51d)),
    ("LotsOfSmallSectors", StoreGeometry(
        sectorSize: 160, sectorCount: 95, flashAlignment: 32, partitionAlignment: 32, firstSector: 5,
        flashSectorCount: 100, checksummed: false, magic: 0xc857_e51d)),
    ("LotsOfSmallSectorsRedundant", StoreGeometry(
        sectorSize: 160, sectorCount: 95, flashAlignment: 32, partitionAlignment: 32, firstSector: 5,
        flashSectorCount: 200, redundancy: 2, checksummed: false, magic: 0xc857_e51d)),
    ("OnlyTwoSectors", StoreGeometry(
        sectorSize: 4096, sectorCount: 2, flashAlignment: 16, partitionAlignment: 64, firstSector: 18,
        flashSectorCount: 20, checksummed: false, magic: 0xc857_e51d)),
]

let storeModelScenarios: [StoreModelScenario] = {
    var scenarios: [StoreModelScenario] = []
    for (index, entry) in storeModelReferenceGeometries.enumerated() {
        scenarios.append(StoreModelScenario(
            name: entry.name, geometry: entry.geometry, operations: 3000, seed: 6_006_411 &+ UInt64(index)))
        scenarios.append(StoreModelScenario(
            name: entry.name + " (new keys often)", geometry: entry.geometry, operations: 1500, seed: 123 &+ UInt64(index),
            newKeyOneIn: 3, reinitOneIn: 25, fullMaintenanceOneIn: 100, partialMaintenanceOneIn: 20))
    }
    scenarios += [
        StoreModelScenario(
            name: "Alignment 1, CRC16", geometry: StoreGeometry(sectorSize: 1024, sectorCount: 6, flashAlignment: 1),
            operations: 2000, seed: 1, newKeyOneIn: 6),
        StoreModelScenario(
            name: "Alignment 64, CRC16, redundancy 2",
            geometry: StoreGeometry(sectorSize: 2048, sectorCount: 6, flashAlignment: 64, redundancy: 2),
            operations: 2000, seed: 2, newKeyOneIn: 6),
        StoreModelScenario(
            name: "Redundancy 3, CRC16",
            geometry: StoreGeometry(sectorSize: 4096, sectorCount: 4, flashAlignment: 16, flashSectorCount: 12, redundancy: 3),
            operations: 2000, seed: 3, newKeyOneIn: 8),
        StoreModelScenario(
            name: "Redundancy 3, alignment 1, no checksum",
            geometry: StoreGeometry(sectorSize: 1024, sectorCount: 8, flashAlignment: 1, redundancy: 3, checksummed: false),
            operations: 2000, seed: 4, newKeyOneIn: 5, heavyMaintenanceOneIn: 60),
        StoreModelScenario(
            name: "Small key table, heavy maintenance on demand",
            geometry: StoreGeometry(sectorSize: 1024, sectorCount: 5, flashAlignment: 16, capacity: 24),
            operations: 2000, seed: 5, newKeyOneIn: 2, heavyMaintenanceOneIn: 150),
        StoreModelScenario(
            name: "Small key table, redundancy 2, alignment 64",
            geometry: StoreGeometry(sectorSize: 2048, sectorCount: 5, flashAlignment: 64, redundancy: 2, capacity: 16),
            operations: 2000, seed: 6, newKeyOneIn: 2),
        StoreModelScenario(
            name: "Collect one sector per write",
            geometry: StoreGeometry(sectorSize: 512, sectorCount: 8, flashAlignment: 16, options: .gcOneSector),
            operations: 2000, seed: 7, newKeyOneIn: 6),
        // The key table stores addresses in 16 bits (units of 16 bytes) only
        // when sectors are multiples of 16 bytes in at most 1 MiB; these two
        // take the 32-bit path, one with the hash index, one without.
        StoreModelScenario(
            name: "Sectors of 1000 bytes (32-bit addresses), redundancy 2, small key table",
            geometry: StoreGeometry(sectorSize: 1000, sectorCount: 8, flashAlignment: 8, redundancy: 2, capacity: 40),
            operations: 2000, seed: 9, newKeyOneIn: 6, heavyMaintenanceOneIn: 120),
        StoreModelScenario(
            name: "Partition over 1 MiB (32-bit addresses)",
            geometry: StoreGeometry(sectorSize: 32768, sectorCount: 33, flashAlignment: 16, capacity: 100),
            operations: 1500, seed: 10, newKeyOneIn: 4, heavyMaintenanceOneIn: 200),
        StoreModelScenario(
            name: "No read or write verification, redundancy 2",
            geometry: StoreGeometry(sectorSize: 1024, sectorCount: 6, flashAlignment: 16, redundancy: 2, options: .noVerification),
            operations: 2000, seed: 8, newKeyOneIn: 6, heavyMaintenanceOneIn: 100),
    ]
    return scenarios
}()

/// Drives a store and a Dictionary model with the same operations.
final class StoreModelHarness {
    let geometry: StoreGeometry
    let flash: RAMFlash
    private(set) var store: KeyValueStore<RAMFlash>
    private(set) var model: [[UInt8]: [UInt8]] = [:]
    /// Present keys in a deterministic order (Dictionary order is seeded per process).
    private var presentKeys: [[UInt8]] = []
    private var presentIndex: [[UInt8]: Int] = [:]
    private var deleted: Set<[UInt8]> = []
    /// Every key ever generated, by hash, to avoid accidental hash collisions.
    private var keysByHash: [UInt32: [UInt8]] = [:]
    private var random: StoreSplitMix64
    private var absentKeyCounter = 0
    private(set) var step = 0
    private(set) var tally: [String: Int] = [:]

    init(geometry: StoreGeometry, seed: UInt64) throws {
        self.geometry = geometry
        flash = geometry.makeFlash()
        store = try geometry.openStore(on: flash)
        random = StoreSplitMix64(seed: seed)
    }

    private func count(_ what: String) { tally[what, default: 0] += 1 }

    /// Thrown to end a run at the first unexpected result.
    struct Stopped: Error {}

    private func stop(_ comment: Comment) throws -> Never {
        Issue.record(comment)
        throw Stopped()
    }

    private func context(_ operation: String, _ key: [UInt8]? = nil) -> Comment {
        let keyText = key.map { " key \"\(String(decoding: $0, as: UTF8.self))\" (\($0.count) bytes)" } ?? ""
        return "step \(step): \(operation)\(keyText)"
    }

    private func randomInt(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    // MARK: Model bookkeeping

    private func modelSet(_ key: [UInt8], _ value: [UInt8]) {
        if model.updateValue(value, forKey: key) == nil {
            presentIndex[key] = presentKeys.count
            presentKeys.append(key)
        }
        deleted.remove(key)
    }

    private func modelRemove(_ key: [UInt8]) {
        guard model.removeValue(forKey: key) != nil, let index = presentIndex.removeValue(forKey: key) else { return }
        let last = presentKeys.removeLast()
        if index < presentKeys.count {
            presentKeys[index] = last
            presentIndex[last] = index
        }
        deleted.insert(key)
    }

    private func randomPresentKey() -> [UInt8]? {
        presentKeys.isEmpty ? nil : presentKeys[randomInt(presentKeys.count)]
    }

    /// A new random key of 0...63 bytes (0 is a bad key) that collides with
    /// no key used before.
    private func randomNewKey() -> [UInt8] {
        while true {
            let key = storeRandomString(length: randomInt(64), using: &random)
            if key.isEmpty { return key }
            let hash = KeyHash.of(key.span)
            if let known = keysByHash[hash], known != key { continue }
            keysByHash[hash] = key
            return key
        }
    }

    private func randomAbsentKey() -> [UInt8] {
        absentKeyCounter += 1
        return Array("not_a_key\(absentKeyCounter)".utf8)
    }

    /// Values are 0 to `maxValueLength - 1` bytes (set by ``run(_:)``).
    var maxValueLength = 64
    private func randomValue() -> [UInt8] { storeRandomString(length: randomInt(maxValueLength), using: &random) }

    // MARK: Checks

    /// Whether a write needing `entrySize` bytes per copy may be refused for
    /// space: after garbage collection, at most one erased sector (the
    /// reserve) and `redundancy - 1` sectors reserved for the other copies
    /// can have room, so every other sector holds more than
    /// `sectorSize - entrySize` live bytes.
    private func isGenuinelyFull(entrySize: Int) -> Bool {
        // Collecting one sector per request may not free enough (spec 3.1).
        if case .gcOneSector = geometry.options { return true }
        let stats = store.storageStats
        let fullSectors = max(geometry.sectorCount - geometry.redundancy, 0)
        return stats.inUseBytes >= fullSectors * (geometry.sectorSize - entrySize + 1)
    }

    func checkCount(_ operation: String, _ key: [UInt8]? = nil) throws {
        try #require(store.count == model.count, context(operation, key))
    }

    /// Compares the whole store with the model: size, iteration, and a get of
    /// every key.
    func checkEverything(_ stage: String) throws {
        try #require(store.count == model.count, "\(stage): count")
        let contents = try storeContents(store)
        let missing = model.keys.filter { contents[$0] == nil }.map { String(decoding: $0, as: UTF8.self) }
        let unexpected = contents.keys.filter { model[$0] == nil }.map { String(decoding: $0, as: UTF8.self) }
        let different = model.keys.filter { contents[$0] != nil && contents[$0] != model[$0] }
            .map { String(decoding: $0, as: UTF8.self) }
        try #require(
            missing.isEmpty && unexpected.isEmpty && different.isEmpty,
            "\(stage) at step \(step): missing \(missing), unexpected \(unexpected), different values \(different)")
        try #require(storeItemCount(store) == model.count)
        for (key, value) in model {
            try #require(try storeValue(store, key) == value, "\(stage): get \(String(decoding: key, as: UTF8.self))")
        }
    }

    // MARK: Operations

    func put(_ key: [UInt8], _ value: [UInt8]) throws {
        try checkCount("before put", key)
        let isNew = model[key] == nil
        let modelWasFull = isNew && model.count >= geometry.capacity
        var failure: KVSError? = nil
        do {
            try store.put(key.span, value.span)
        } catch {
            failure = error
        }
        let committed = store.lastWriteCommitted
        if key.isEmpty || key.count > 63 {
            #expect(failure == .invalidArgument, context("put", key))
            count("put bad key")
        } else if failure == nil {
            #expect(!modelWasFull, context("put succeeded with a full key table", key))
            #expect(committed, context("lastWriteCommitted after a successful put", key))
            modelSet(key, value)
            count("put")
            try #require(try storeValue(store, key) == value, context("get after put", key))
        } else if committed {
            // The first copy is live although a later copy failed (spec 3.9,
            // 7.2 B4-bis): the model must follow. Space is reserved for every
            // copy before the first is written, and no faults are injected
            // here, so this is still unexpected.
            modelSet(key, value)
            count("put committed with error")
            Issue.record(context("put committed its first copy, then failed with \(failure!)", key))
        } else if modelWasFull {
            #expect(failure == .resourceExhausted, context("put to a full key table", key))
            count("put refused: key table full")
        } else if failure == .resourceExhausted {
            // The reference requires a non-empty model; tombstones also take
            // space until heavy maintenance drops them (spec 7.2 B27).
            #expect(!model.isEmpty || store.totalEntriesWithDeleted > 0, context("an empty store refused a put", key))
            let tableFull = isNew && store.totalEntriesWithDeleted >= geometry.capacity
            let entrySize = geometry.entrySize(keyLength: key.count, valueLength: value.count)
            #expect(tableFull || isGenuinelyFull(entrySize: entrySize),
                    context("put refused for space with \(store.storageStats.inUseBytes) bytes in use", key))
            count("put refused: full")
        } else {
            try stop(context("put failed with \(failure!)", key))
        }
        if failure != nil && !committed, let previous = model[key] {
            #expect(try storeValue(store, key) == previous, context("a refused put keeps the previous value", key))
        }
        try checkCount("after put", key)
    }

    func delete(_ key: [UInt8]) throws {
        try checkCount("before delete", key)
        let wasPresent = model[key] != nil
        var failure: KVSError? = nil
        do {
            try store.delete(key.span)
        } catch {
            failure = error
        }
        let committed = store.lastWriteCommitted
        if key.isEmpty || key.count > 63 {
            #expect(failure == .invalidArgument, context("delete", key))
        } else if !wasPresent {
            #expect(failure == .notFound, context("delete of an absent key", key))
            count("delete absent")
        } else if failure == nil || committed {
            if let failure { Issue.record(context("delete committed its first copy, then failed with \(failure)", key)) }
            try #require(!deleted.contains(key), context("key deleted twice", key))
            modelRemove(key)
            count("delete")
            #expect(storeRead(store, key, bufferSize: 64).error == .notFound, context("get after delete", key))
        } else if failure == .resourceExhausted {
            let entrySize = geometry.entrySize(keyLength: key.count, valueLength: 0)
            #expect(isGenuinelyFull(entrySize: entrySize), context("delete refused for space", key))
            #expect(try storeValue(store, key) == model[key], context("a refused delete keeps the value", key))
            count("delete refused: full")
        } else {
            try stop(context("delete failed with \(failure!)", key))
        }
        try checkCount("after delete", key)
    }

    func get(_ key: [UInt8]) throws {
        let outcome = storeRead(store, key, bufferSize: max(64, maxValueLength))
        if let expected = model[key] {
            #expect(outcome.count == expected.count, context("get", key))
            #expect(Array(outcome.buffer.prefix(expected.count)) == expected, context("get", key))
        } else {
            #expect(outcome.error == .notFound, context("get of an absent key", key))
        }
        count("get")
    }

    func reinitialize() throws {
        do {
            store = try geometry.openStore(on: flash)
        } catch {
            try stop("step \(step): re-initialization failed with \(error)")
        }
        count("reinit")
        try checkEverything("after re-initialization")
    }

    func fullMaintenance() throws {
        do {
            try store.fullMaintenance()
        } catch {
            try stop("step \(step): full maintenance failed with \(error)")
        }
        let stats = store.storageStats
        if stats.inUseBytes > geometry.partitionSize * 70 / 100 {
            #expect(stats.reclaimableBytes == 0, "step \(step): over 70 % in use, full maintenance collects everything")
        }
        count("full maintenance")
        try checkCount("after full maintenance")
    }

    func partialMaintenance() throws {
        let before = store.storageStats
        var failure: KVSError? = nil
        do {
            try store.partialMaintenance()
        } catch {
            failure = error
        }
        let after = store.storageStats
        if before.reclaimableBytes > 0 {
            #expect(failure == nil, "step \(step): partial maintenance")
            #expect(after.reclaimableBytes < before.reclaimableBytes, "step \(step): partial maintenance reclaims")
        } else if before.inUseBytes == 0 {
            #expect(failure == .notFound, "step \(step): nothing to collect")
        } else {
            // Spec 7.2 B7: with nothing reclaimable, the reference still moves
            // live data; either outcome must leave nothing reclaimable.
            #expect(failure == nil || failure == .notFound, "step \(step): partial maintenance")
            #expect(after.reclaimableBytes == 0, "step \(step): partial maintenance creates no garbage")
        }
        count("partial maintenance")
        try checkCount("after partial maintenance")
    }

    func heavyMaintenance() throws {
        do {
            try store.heavyMaintenance()
        } catch {
            try stop("step \(step): heavy maintenance failed with \(error)")
        }
        #expect(store.storageStats.reclaimableBytes == 0, "step \(step): heavy maintenance collects everything")
        #expect(store.totalEntriesWithDeleted == store.count, "step \(step): heavy maintenance drops deleted keys")
        count("heavy maintenance")
        try checkCount("after heavy maintenance")
    }

    // MARK: Runs

    /// One random operation (spec 5.12's mix, plus gets and 64-byte keys).
    func randomStep(_ scenario: StoreModelScenario) throws {
        step += 1
        let roll = randomInt(100)
        if roll < 22 {
            if model.isEmpty || randomInt(8) == 0 {
                try delete(randomInt(20) == 0 ? [UInt8](repeating: 0x61, count: 64) : randomAbsentKey())
            } else {
                try delete(randomPresentKey()!)
            }
        } else if roll < 35 {
            if model.isEmpty || randomInt(4) == 0 {
                try get(randomAbsentKey())
            } else {
                try get(randomPresentKey()!)
            }
        } else {
            let key: [UInt8]
            if model.isEmpty || randomInt(scenario.newKeyOneIn) == 0 {
                key = randomInt(100) == 0 ? [UInt8](repeating: 0x62, count: 64) : randomNewKey()
            } else {
                key = randomPresentKey()!
            }
            try put(key, randomValue())
        }

        if scenario.reinitOneIn > 0 && randomInt(scenario.reinitOneIn) == 0 { try reinitialize() }
        if scenario.fullMaintenanceOneIn > 0 && randomInt(scenario.fullMaintenanceOneIn) == 0 { try fullMaintenance() }
        if scenario.partialMaintenanceOneIn > 0 && randomInt(scenario.partialMaintenanceOneIn) == 0 {
            try partialMaintenance()
        }
        if scenario.heavyMaintenanceOneIn > 0 && randomInt(scenario.heavyMaintenanceOneIn) == 0 {
            try heavyMaintenance()
        }
        let violations = store.invariantViolations()
        try #require(violations.isEmpty, "step \(step): \(violations.prefix(4))")
    }

    func run(_ scenario: StoreModelScenario) throws {
        maxValueLength = scenario.maxValueLength
        for _ in 0..<scenario.operations { try randomStep(scenario) }
        try checkEverything("end of run")
        try reinitialize()
    }
}

@Suite("Store agrees with a Dictionary model (spec 5.12)")
struct StoreModelTests {
    @Test(arguments: storeModelScenarios)
    func randomOperationsAgreeWithTheModel(scenario: StoreModelScenario) throws {
        let harness = try StoreModelHarness(geometry: scenario.geometry, seed: scenario.seed)
        try harness.run(scenario)
        // The run must have exercised the store: many puts succeeded (about
        // two thirds of the operations are puts) and deletes happened.
        #expect(harness.tally["put", default: 0] > scenario.operations / 6, "\(harness.tally)")
        #expect(harness.tally["delete", default: 0] > 0, "\(harness.tally)")
    }

    /// Reference `Put`: one key, 100 rewrites of another, 100 new keys.
    @Test(arguments: storeModelReferenceGeometries.map(\.geometry))
    func putSequence(geometry: StoreGeometry) throws {
        let harness = try StoreModelHarness(geometry: geometry, seed: 0)
        try harness.put(Array("base_key".utf8), Array("base_value".utf8))
        for index in 0..<100 { try harness.put(Array("other_key".utf8), Array("\(index)".utf8)) }
        for index in 0..<100 { try harness.put(Array("key_\(index)".utf8), Array("\(index)".utf8)) }
        try harness.checkEverything("after puts")
        try harness.reinitialize()
    }

    /// Reference `PutAndDelete_RelocateDeletedEntriesShouldStayDeleted`.
    @Test(arguments: storeModelReferenceGeometries.map(\.geometry))
    func relocatedDeletedEntriesStayDeleted(geometry: StoreGeometry) throws {
        let harness = try StoreModelHarness(geometry: geometry, seed: 0)
        for index in 0..<100 {
            let key = Array("key_\(index)".utf8)
            try harness.put(key, [UInt8](repeating: UInt8(ascii: "?"), count: 64))
            try harness.delete(key)
        }
        try harness.checkEverything("after put and delete")
        try harness.reinitialize()
    }
}
