import FlashKVS

/// The power-cut sweep of atomic batches (issue 22): generated workloads
/// (batches of 1 to 8 operations on new and existing keys, deletes,
/// repeated keys, batches that need garbage collection) over geometries with
/// redundancy 1 and 2, cut at every program and erase of the batch in every
/// interruption state, with a second cut at every `secondCutInterval`-th
/// operation of the recovery. After each: `initialize()` succeeds, the
/// store shows exactly the values before or after the batch (all or
/// nothing; every other key intact), the invariants hold, a second init
/// agrees, and a put succeeds.
public struct BatchSweep {
    public struct Geometry: Sendable, CustomStringConvertible {
        public var sectorSize: Int
        public var sectorCount: Int
        public var alignment: Int
        public var redundancy: Int
        public var checksummed: Bool
        public var description: String {
            "\(sectorCount)x\(sectorSize) a\(alignment) r\(redundancy) \(checksummed ? "crc16" : "none")"
        }
        public init(sectorSize: Int, sectorCount: Int, alignment: Int, redundancy: Int, checksummed: Bool = true) {
            (self.sectorSize, self.sectorCount, self.alignment, self.redundancy, self.checksummed) =
                (sectorSize, sectorCount, alignment, redundancy, checksummed)
        }
    }

    public enum Operation: Sendable, CustomStringConvertible {
        case put(String, [UInt8])
        case delete(String)
        public var description: String {
            switch self {
            case .put(let key, let value): "put \(key) (\(value.count) B)"
            case .delete(let key): "delete \(key)"
            }
        }
    }

    /// One batch after a prefix of plain puts.
    public struct Workload: Sendable {
        public var name: String
        public var geometry: Geometry
        public var prefix: [(String, [UInt8])]
        public var batch: [Operation]
    }

    public struct Result: Sendable {
        public var cutPoints = 0
        public var scenarios = 0
        public var secondCuts = 0
        public var checks = 0
        public var committed = 0
        public var rolledBack = 0
        public var violations: [String] = []
        /// Workloads the store refused before writing (no room): not swept.
        public var refused = 0
        public init() {}
    }

    public static let geometries: [Geometry] = [
        Geometry(sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 1),
        Geometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 2),
        Geometry(sectorSize: 256, sectorCount: 8, alignment: 8, redundancy: 1, checksummed: false),
        Geometry(sectorSize: 1024, sectorCount: 5, alignment: 64, redundancy: 2),
    ]

    /// `perGeometry` workloads per geometry, from a fixed seed.
    public static func workloads(perGeometry: Int) -> [Workload] {
        var generator = SplitMix(seed: 22)
        var list: [Workload] = []
        for geometry in geometries {
            for index in 0..<perGeometry {
                let crowded = index % 3 == 2
                var prefix: [(String, [UInt8])] = []
                let keys = 3 + generator.next(5)
                for key in 0..<keys { prefix.append(("k\(key)", bytes(&generator, 1 + generator.next(24)))) }
                if crowded {  // stale versions: the batch must collect garbage first
                    for round in 0..<(geometry.sectorSize * geometry.sectorCount / 96) {
                        prefix.append(("k\(round % keys)", bytes(&generator, 1 + generator.next(40))))
                    }
                }
                var batch: [Operation] = []
                for _ in 0..<(1 + generator.next(8)) {
                    let key = "k\(generator.next(keys + 3))"  // existing or new
                    batch.append(generator.next(4) == 0 ? .delete(key)
                                 : .put(key, bytes(&generator, generator.next(geometry.sectorSize / 8))))
                }
                list.append(Workload(name: "\(geometry) #\(index)\(crowded ? " gc" : "")", geometry: geometry,
                                     prefix: prefix, batch: batch))
            }
        }
        return list
    }

    static func bytes(_ generator: inout SplitMix, _ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next(256)) }
    }

    public let workload: Workload
    public var secondCutInterval: Int
    /// The interruption states of the second cut (during the recovery).
    public var secondCutStates: [Interruption]
    /// Whether every second cut is followed by a third cut at every
    /// operation of the next recovery (in the state `.programPrefix`).
    public var thirdCuts: Bool

    /// - Parameters:
    ///   - secondCutInterval: a second cut at every n-th operation of the recovery.
    ///   - allSecondCutStates: second cuts in every interruption state (else `.programPrefix`).
    ///   - thirdCuts: a third cut at every operation of the recovery after each second cut.
    public init(_ workload: Workload, secondCutInterval: Int = 3, allSecondCutStates: Bool = false,
                thirdCuts: Bool = false) {
        self.workload = workload
        self.secondCutInterval = secondCutInterval
        self.secondCutStates = allSecondCutStates ? Interruption.allCases : [.programPrefix]
        self.thirdCuts = thirdCuts
    }

    /// Runs a store's init on `flash` with a power cut at its operation
    /// `operation` (nothing if negative), then restores power.
    func interruptedInit(_ flash: RAMFlash, at operation: Int, _ interruption: Interruption) {
        guard operation >= 0 else { return }
        flash.schedulePowerCut(atOperation: operation, interruption: interruption)
        if let store = try? makeStore(flash) { _ = try? store.initialize() }
        flash.restorePower()
    }

    /// Programs and erases of an init on a copy of `flash`.
    func recoveryOperations(_ flash: RAMFlash) -> Int {
        let probe = Self.copy(flash)
        let start = probe.mediumOperations
        if let store = try? makeStore(probe) { _ = try? store.initialize() }
        return probe.mediumOperations - start
    }

    func makeStore(_ flash: RAMFlash) throws(KVSError) -> KeyValueStore<RAMFlash> {
        let geometry = workload.geometry
        let store = try KeyValueStore(
            partition: FlashPartition(flash),
            format: EntryFormat(magic: 0x2b2a_0d1e, checksum: geometry.checksummed ? .crc16 : .none),
            capacity: 32, redundancy: geometry.redundancy)
        store.enableBatches()
        return store
    }

    func runBatch(_ store: KeyValueStore<RAMFlash>) throws(KVSError) {
        try store.commit { batch throws(KVSError) in
            for operation in workload.batch {
                switch operation {
                case .put(let key, let value): try batch.put(key, value)
                case .delete(let key): try batch.delete(key)
                }
            }
        }
    }

    static func copy(_ flash: RAMFlash) -> RAMFlash {
        let clone = RAMFlash(sectorSize: flash.sectorSize, sectorCount: flash.sectorCount, alignment: flash.alignment)
        clone.load(flash.contents.span)
        return clone
    }

    static func shown(_ store: KeyValueStore<RAMFlash>) -> [String: [UInt8]]? {
        var values: [String: [UInt8]] = [:]
        for item in store.items {
            let key = String(decoding: store.key(of: item), as: UTF8.self)
            guard let value = try? store.get(key) else { return nil }
            values[key] = value
        }
        return values
    }

    public func run() -> Result {
        var result = Result()
        let geometry = workload.geometry
        let base = RAMFlash(sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount,
                            alignment: geometry.alignment)
        var before: [String: [UInt8]] = [:]
        do {
            let store = try makeStore(base)
            try store.initialize()
            for (key, value) in workload.prefix { try store.put(key, value); before[key] = value }
        } catch {
            result.violations.append("\(workload.name): prefix failed: \(error)")
            return result
        }
        var after = before
        for operation in workload.batch {
            switch operation {
            case .put(let key, let value): after[key] = value
            case .delete(let key): after[key] = nil
            }
        }
        // Dry run: count the batch's programs and erases.
        let dry = Self.copy(base)
        let operations: Int
        do {
            let store = try makeStore(dry)
            try store.initialize()
            let start = dry.mediumOperations
            try runBatch(store)
            operations = dry.mediumOperations - start
        } catch {
            result.refused += 1
            return result
        }
        for cut in 0..<operations {
            result.cutPoints += 1
            for interruption in Interruption.allCases {
                let flash = Self.copy(base)
                guard let store = try? makeStore(flash), (try? store.initialize()) != nil else {
                    result.violations.append("\(workload.name): init before the cut failed")
                    continue
                }
                flash.schedulePowerCut(atOperation: cut, interruption: interruption)
                _ = try? runBatch(store)
                flash.restorePower()
                let scenario = "\(workload.name) cut \(cut) \(interruption)"
                result.scenarios += 1
                check(Self.copy(flash), before: before, after: after, scenario: scenario, result: &result)
                let recovery = recoveryOperations(flash)
                for second in stride(from: 0, to: recovery, by: secondCutInterval) {
                    for secondState in secondCutStates {
                        let twice = Self.copy(flash)
                        result.secondCuts += 1
                        interruptedInit(twice, at: second, secondState)
                        let secondScenario = "\(scenario), second cut \(second)"
                            + (secondCutStates.count > 1 ? " \(secondState)" : "")
                        result.scenarios += 1
                        check(Self.copy(twice), before: before, after: after, scenario: secondScenario,
                              result: &result)
                        guard thirdCuts else { continue }
                        for third in 0..<recoveryOperations(twice) {
                            let thrice = Self.copy(twice)
                            result.secondCuts += 1
                            interruptedInit(thrice, at: third, .programPrefix)
                            result.scenarios += 1
                            check(thrice, before: before, after: after,
                                  scenario: "\(secondScenario), third cut \(third)", result: &result)
                        }
                    }
                }
            }
        }
        return result
    }

    func check(_ flash: RAMFlash, before: [String: [UInt8]], after: [String: [UInt8]], scenario: String,
               result: inout Result) {
        func violation(_ text: String) { result.violations.append("\(scenario): \(text)") }
        guard let store = try? makeStore(flash) else { return violation("store refused") }
        result.checks += 1
        do { try store.initialize() } catch { return violation("initialize() threw \(error)") }
        result.checks += 1
        let shown = Self.shown(store)
        if shown == after { result.committed += 1 } else if shown == before { result.rolledBack += 1 } else {
            violation("partly applied or damaged: \(shown.map { "\($0.keys.sorted())" } ?? "a value unreadable") "
                + "(batch \(workload.batch), scan \(store.lastScan), state \(store.state))")
        }
        result.checks += 1
        let broken = store.invariantViolations()
        if !broken.isEmpty { violation("invariants: \(broken.prefix(2))") }
        result.checks += 1
        guard let again = try? makeStore(flash), (try? again.initialize()) != nil, Self.shown(again) == shown else {
            return violation("a second init disagrees")
        }
        result.checks += 1
        do { try store.put("after-cut", [1, 2, 3]) } catch { violation("not writable: \(error)") }
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }
}
