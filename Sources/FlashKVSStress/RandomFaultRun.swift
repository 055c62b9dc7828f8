import FlashKVS

/// A long random workload on flash whose reads, writes and erases fail at
/// random (once in ``oneIn`` calls, seeded; failed reads scramble the
/// buffer, failed writes and erases leave nothing, all or part done),
/// checked against a model after every operation (issue 17):
///
/// - a `get` returns the model's value; an error is allowed, but never
///   `.notFound` for a present key; a value for an absent key never;
/// - `put` never throws `.notFound` / `.alreadyExists`; `delete` of a
///   present key never `.notFound`; a failed put or delete may leave the
///   old or the new value: what `get` then returns (faults off) must be one
///   of them, and the model adopts it;
/// - every key then reads its model value, and the store agrees with a
///   fresh init over the same flash (``StoreAgreement``), faults off;
/// - every ``checkpointInterval`` operations, with faults off, the store
///   accepts a put (after a fullMaintenance() if it is in
///   `.needsMaintenance`);
/// - reboots (a new store and `initialize()`, faults on) happen at random;
///   one that leaves the store `.notInitialized` is retried, as a user
///   would; at the end a reboot without faults must succeed, read every
///   value and accept 20 puts.
public struct RandomFaultRun {
    public struct Result: Sendable {
        public var name: String
        public var operations = 0
        public var faultsFired = 0
        public var failedOperations = 0
        public var checks = 0
        public var records: [SweepViolation] = []
        public var refusedByAPI: String?
        public var violations: [String] { records.map(\.description) }
        public init(name: String) { self.name = name }
    }

    public let geometry: SweepGeometry
    public let seed: UInt64
    public var operations: Int
    public var oneIn = 50
    public var checkpointInterval = 40
    /// Stop after this many violations (the rest would mostly repeat them).
    public var maxViolations = 50

    public init(_ geometry: SweepGeometry, seed: UInt64, operations: Int) {
        self.geometry = geometry
        self.seed = seed
        self.operations = operations
    }

    public var name: String { "random-\(geometry)-seed\(seed)" }

    private var workload: SweepWorkload {
        SweepWorkload(name: name, sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount,
                      alignment: geometry.alignment, redundancy: geometry.redundancy, capacity: 18,
                      checksum: geometry.storeChecksum, operations: [])
    }

    public func run() -> Result {
        var result = Result(name: name)
        let workload = self.workload
        if let refusal = workload.refusalByAPI() {
            result.refusedByAPI = refusal
            return result
        }
        let flash = FaultyFlash(workload.makeFlash())
        flash.randomFaults = FaultyFlash.RandomFaults(oneIn: oneIn, seed: seed)
        flash.faultsEnabled = false
        guard var store = workload.makeStore(flash), (try? store.initialize()) != nil else { return result }
        var random = StressRandom(seed: seed ^ 0xA5A5_5A5A_1234_5678)
        var model: [String: [UInt8]] = [:]
        var named = Set<String>()
        let keyPool = ["a", "k1", "wifi", "cfg/x", "boot-count", "k5", "calib.table", "k7", "z", "user/name"]
        let liveBudget = geometry.usableBytes / 2
        var version = 0
        func entry(_ key: String, _ length: Int) -> Int { geometry.entrySize(keyLength: key.utf8.count, valueLength: length) }
        func liveBytes(excluding key: String) -> Int {
            model.filter { $0.key != key }.reduce(0) { $0 + entry($1.key, $1.value.count) }
        }
        func value(for key: String) -> [UInt8]? {
            let room = liveBudget - liveBytes(excluding: key) - 64  // tombstones and slack
            var limit = max(1, geometry.sectorSize / 2 - 16 - key.utf8.count)
            while limit > 0 && entry(key, limit) > room { limit = limit * 3 / 4 }
            guard limit > 0 else { return nil }
            version += 1
            let length = random.oneIn(2) ? random.within(max(1, limit / 2)...limit) : random.within(1...max(1, limit / 4))
            return SweepWorkload.randomValue(version, length: length)
        }

        for number in 0..<operations {
            guard result.records.count < maxViolations else { break }
            // Choose an operation from the model.
            let present = model.keys.sorted()
            let absent = keyPool.filter { model[$0] == nil }
            var operation: SweepWorkload.Operation
            let roll = random.below(100)
            switch roll {
            case 0..<35:
                if let key = present.isEmpty ? absent.first : present[random.below(present.count)], let v = value(for: key) {
                    operation = .put(key, v)
                } else { operation = .get("a") }
            case 35..<45:
                if let key = absent.isEmpty ? nil : absent[random.below(absent.count)], let v = value(for: key) {
                    operation = .put(key, v)
                } else { operation = .get("z") }
            case 45..<48:
                if let key = present.isEmpty ? nil : present[random.below(present.count)] {
                    operation = .put(key, model[key]!)
                } else { operation = .get("k1") }
            case 48..<56:
                operation = .delete(present.isEmpty ? "k1" : present[random.below(present.count)])
            case 56..<58:
                operation = .delete(absent.isEmpty ? "never" : absent[random.below(absent.count)])
            case 58..<82:
                let candidates = keyPool + ["never"]
                operation = .get(random.oneIn(2) && !present.isEmpty ? present[random.below(present.count)]
                                 : candidates[random.below(candidates.count)])
            case 82..<88: operation = .reinitialize
            case 88..<93: operation = .partialMaintenance
            case 93..<97: operation = .fullMaintenance
            default: operation = .heavyMaintenance
            }
            result.operations += 1
            var scenario = "operation \(number) \(operation)"
            func violation(_ kind: String, _ detail: String = "") {
                result.records.append(SweepViolation(kind: kind, workload: name, scenario: scenario, detail: detail))
            }

            flash.clearEvents()
            flash.faultsEnabled = true
            var outcome: Swift.Result<[UInt8]?, KVSError>
            do throws(KVSError) {
                outcome = .success(try workload.perform(operation, on: &store, flash: flash))
            } catch { outcome = .failure(error) }
            // A user retries an initialize() that left the store unusable.
            var retries = 0
            while store.state == .notInitialized && retries < 5 {
                retries += 1
                try? store.initialize()
            }
            flash.faultsEnabled = false
            if store.state == .notInitialized { try? store.initialize() }
            result.faultsFired += flash.events.count
            if !flash.events.isEmpty {
                scenario += " with faults [" + flash.events.map(\.description).joined(separator: "; ") + "]"
            }
            if case .failure = outcome { result.failedOperations += 1 }
            result.checks += 1

            var resolve: String? = nil
            var allowed: [[UInt8]?] = []
            switch (operation, outcome) {
            case (.get(let key), .success(let read)):
                named.insert(key)
                if read != model[key] {
                    violation(read == nil ? "get of a present key says .notFound under faults"
                              : "get returns a wrong value under faults",
                              "\(key): read \(ValueText.describe(read)), model \(ValueText.describe(model[key]))")
                }
            case (.put(let key, let value), .success):
                named.insert(key)
                model[key] = value
            case (.put(let key, let value), .failure(let error)):
                named.insert(key)
                if error == .notFound || error == .alreadyExists {
                    violation("put throws \(error.name) under faults", "\(key) (present: \(model[key] != nil))")
                }
                resolve = key
                allowed = [model[key], value]
            case (.delete(let key), .success):
                named.insert(key)
                if model[key] == nil { violation("delete of an absent key succeeds", key) }
                model[key] = nil
            case (.delete(let key), .failure(let error)):
                named.insert(key)
                if error == .notFound && model[key] != nil {
                    violation("delete of a present key throws NOT_FOUND under faults", key)
                }
                if model[key] != nil {
                    resolve = key
                    allowed = [model[key], nil]
                }
            default:
                break
            }
            if let key = resolve {
                let read = try? store.get(key)
                if !allowed.contains(where: { $0 == read }) {
                    violation("a failed write leaves neither the old nor the new value",
                              "\(key): read \(ValueText.describe(read)), old \(ValueText.describe(allowed[0])), new \(ValueText.describe(allowed[1]))")
                }
                model[key] = read
            }
            // Every key (faults off).
            for key in named.sorted() {
                result.checks += 1
                let read = StoreAgreement.read(store, key)
                let expected: Swift.Result<[UInt8], KVSError> = model[key].map { .success($0) } ?? .failure(.notFound)
                if read != expected {
                    violation("get disagrees with the model after the operation (faults off)",
                              "\(key): \(StoreAgreement.describe(read)), model \(StoreAgreement.describe(expected))")
                    // Adopt what a fresh init says, so that one divergence is reported once.
                    model[key] = try? read.get()
                }
            }
            result.checks += 1
            var freshError: KVSError? = nil
            let differences = StoreAgreement.differences(
                store, image: workload.copy(of: flash.base), extraKeys: named.sorted(),
                open: { workload.makeStore($0) }, freshInitError: &freshError)
            if !differences.isEmpty {
                violation("store disagrees with a fresh init over the same flash", differences.prefix(3).joined(separator: "; "))
                // Continue from what flash says: reboot without faults.
                if let fresh = workload.makeStore(flash) {
                    try? fresh.initialize()
                    store = fresh
                    for key in named { model[key] = try? store.get(key) }
                }
            }
            // Checkpoint: with faults gone, the store takes writes.
            if number % checkpointInterval == checkpointInterval - 1 {
                result.checks += 1
                if store.state == .needsMaintenance {
                    do throws(KVSError) { try store.fullMaintenance() } catch {
                        violation("with faults gone, fullMaintenance() of a store needing it throws \(error.name)",
                                  "scan: \(PowerLossSweep.describe(store.lastScan))")
                    }
                }
                if let key = present.first ?? keyPool.first, let v = value(for: key) {
                    do throws(KVSError) {
                        try store.put(key, v)
                        model[key] = v
                        named.insert(key)
                    } catch {
                        let stats = store.storageStats
                        let corrupt = (0..<workload.sectorCount).filter { store.usage(ofSector: $0).isCorrupt }
                        violation("with faults gone, put throws \(error.name)",
                                  "checkpoint, state \(store.state), write (\(key), \(v.count) B), in use \(stats.inUseBytes), "
                                  + "reclaimable \(stats.reclaimableBytes), writable \(stats.writableBytes), corrupt sectors \(corrupt)")
                        model[key] = try? store.get(key)
                    }
                }
            }
        }
        // The end: a reboot without faults.
        flash.faultsEnabled = false
        let scenario = "final reboot without faults"
        result.checks += 1
        guard let rebooted = workload.makeStore(flash) else { return result }
        do throws(KVSError) { try rebooted.initialize() } catch {
            result.records.append(SweepViolation(kind: "initialize() without faults throws \(error.name)", workload: name,
                                                 scenario: scenario, detail: PowerLossSweep.describe(rebooted.lastScan)))
        }
        for key in named.sorted() {
            result.checks += 1
            let read = try? rebooted.get(key)
            if read != model[key] {
                result.records.append(SweepViolation(
                    kind: "a value differs after a reboot", workload: name, scenario: scenario,
                    detail: "\(key): \(ValueText.describe(read)), model \(ValueText.describe(model[key]))"))
            }
        }
        for round in 0..<20 {
            result.checks += 1
            let key = keyPool[round % 4]
            do throws(KVSError) { try rebooted.put(key, SweepWorkload.randomValue(700_000 + round, length: 16)) } catch {
                result.records.append(SweepViolation(kind: "put after the final reboot throws \(error.name)", workload: name,
                                                     scenario: scenario, detail: "write \(round), state \(rebooted.state)"))
                break
            }
        }
        return result
    }
}
