import FlashKVS

/// For every flash read call of every operation of a workload (the first
/// `initialize()` included), makes that one read fail (a) once and (b)
/// for it and its immediate successors (``persistentFailures`` consecutive
/// read calls), with the destination buffer SCRAMBLED (``FaultyFlash``).
/// Then checks (issue 17):
///
/// - the operation's result: the right value or effect, or an error that
///   is not `.notFound` / `.alreadyExists` for a key that exists / does
///   not (a `get` of a present key never says it is absent; a `put` never
///   says `.alreadyExists`; a `delete` of a present key never `.notFound`);
///   `initialize()` succeeds (a scan repeats itself after a failed read);
/// - a failed put or delete leaves the old or the new value, and the
///   model adopts what `get` then returns;
/// - every key reads its model value afterwards (faults off);
/// - a single transient read error does not set `errorDetected` (no
///   sector is marked corrupt for it: retry first);
/// - the store agrees with a fresh init on a new store object over the
///   same flash (``StoreAgreement``);
/// - the rest of the workload then runs without error (a store left in
///   `.notInitialized` is initialized again first, as a user would).
public struct ReadFaultSweep {
    public struct Result: Sendable {
        public var workload: String
        public var operations = 0
        /// Read calls of the workload (each one a fault point).
        public var readCalls = 0
        /// Fault point and mode combinations run.
        public var scenarios = 0
        public var checks = 0
        public var records: [SweepViolation] = []
        public var refusedByAPI: String?
        public var violations: [String] { records.map(\.description) }
        public init(workload: String) { self.workload = workload }
    }

    public let workload: SweepWorkload
    /// Consecutive read calls that fail in the persistent mode.
    public var persistentFailures = 3

    public init(_ workload: SweepWorkload) { self.workload = workload }

    /// Operation index -1 is the first initialize().
    private func label(_ index: Int, _ swept: SweepWorkload) -> String {
        index < 0 ? "operation -1 initialize()" : "operation \(index) \(swept.operations[index])"
    }

    public func run() -> Result {
        var result = Result(workload: workload.name)
        if let refusal = workload.refusalByAPI() {
            result.refusedByAPI = refusal
            return result
        }
        let swept = workload.sweptPart(records: &result.records)
        result.operations = swept.operations.count
        // Read calls per operation (index 0 is the first initialize()).
        var readsPerOperation: [Int] = []
        do {
            let flash = FaultyFlash(swept.makeFlash())
            guard var store = swept.makeStore(flash) else { return result }
            var before = flash.readCalls
            try? store.initialize()
            readsPerOperation.append(flash.readCalls - before)
            for operation in swept.operations {
                before = flash.readCalls
                _ = try? swept.perform(operation, on: &store, flash: flash)
                readsPerOperation.append(flash.readCalls - before)
            }
        }
        result.readCalls = readsPerOperation.reduce(0, +)
        for (slot, reads) in readsPerOperation.enumerated() {
            for read in 0..<reads {
                for failures in [1, persistentFailures] {
                    result.scenarios += 1
                    scenario(swept, operation: slot - 1, read: read, of: reads, failures: failures, result: &result)
                }
            }
        }
        return result
    }

    /// Replays the workload with read `read` of operation `operation`
    /// (and `failures - 1` more after it) failing, and checks.
    private func scenario(
        _ swept: SweepWorkload, operation index: Int, read: Int, of reads: Int, failures: Int, result: inout Result
    ) {
        let flash = FaultyFlash(swept.makeFlash())
        guard var store = swept.makeStore(flash) else { return }
        var model: [String: [UInt8]] = [:]
        var named = Set<String>()
        func apply(_ operation: SweepWorkload.Operation) {
            switch operation {
            case .put(let key, let value): model[key] = value; named.insert(key)
            case .delete(let key): model[key] = nil; named.insert(key)
            case .get(let key): named.insert(key)
            default: break
            }
        }
        if index >= 0 {
            try? store.initialize()
            for operation in swept.operations[0..<index] {
                _ = try? swept.perform(operation, on: &store, flash: flash)
                apply(operation)
            }
        }
        let mode = failures == 1 ? "once" : "\(failures) consecutive"
        var scenario = "\(label(index, swept)), read call \(read) of \(reads) fails \(mode)"
        func violation(_ kind: String, _ detail: String = "") {
            result.records.append(SweepViolation(kind: kind, workload: swept.name, scenario: scenario, detail: detail))
        }
        let errorDetectedBefore = store.errorDetected
        flash.clearEvents()
        flash.failReads(from: flash.readCalls + read, count: failures, error: .deadlineExceeded)
        var outcome: Swift.Result<[UInt8]?, KVSError>
        if index < 0 {
            do throws(KVSError) { try store.initialize(); outcome = .success(nil) } catch { outcome = .failure(error) }
        } else {
            do throws(KVSError) {
                outcome = .success(try swept.perform(swept.operations[index], on: &store, flash: flash))
            } catch { outcome = .failure(error) }
        }
        flash.failingReads = 0..<0
        if let event = flash.events.first { scenario += " (\(event.description))" }
        result.checks += 1

        // The operation's own result.
        let operation: SweepWorkload.Operation = index < 0 ? .reinitialize : swept.operations[index]
        var resolve: String? = nil  // a key whose old or new value is allowed
        var allowed: [[UInt8]?] = []
        switch (operation, outcome) {
        case (.get(let key), .success(let read)):
            if read != model[key] {
                violation(read == nil ? "get of a present key says .notFound after a read error" : "get returns a wrong value after a read error",
                          "\(key): read \(ValueText.describe(read)), expected \(ValueText.describe(model[key]))")
            }
        case (.get, .failure), (.partialMaintenance, _), (.fullMaintenance, _), (.heavyMaintenance, _):
            break
        case (.put(let key, let value), .success):
            model[key] = value
        case (.put(let key, let value), .failure(let error)):
            if error == .notFound || error == .alreadyExists {
                violation("put throws \(error.name) after a read error", "\(key) (present: \(model[key] != nil))")
            }
            resolve = key
            allowed = [model[key], value]
        case (.delete(let key), .success):
            model[key] = nil
        case (.delete(let key), .failure(let error)):
            if error == .notFound && model[key] != nil {
                violation("delete of a present key throws NOT_FOUND after a read error", key)
            }
            resolve = key
            allowed = [model[key], nil]
        case (.reinitialize, .success):
            break
        case (.reinitialize, .failure(let error)):
            violation("initialize() throws \(error.name) after a read error", "state \(store.state), scan: \(PowerLossSweep.describe(store.lastScan))")
        }
        switch operation {
        case .put(let key, _), .delete(let key), .get(let key): named.insert(key)
        default: break
        }

        if failures == 1 && !errorDetectedBefore && store.errorDetected {
            violation("one transient read error set errorDetected (a sector marked corrupt without a retry)",
                      "state \(store.state)")
        }
        if store.state == .notInitialized {
            do throws(KVSError) { try store.initialize() } catch {
                violation("initialize() again (no faults) throws \(error.name)")
            }
        }
        if let key = resolve {
            let read = try? store.get(key)
            if !allowed.contains(where: { $0 == read }) {
                violation("a failed write leaves neither the old nor the new value",
                          "\(key): read \(ValueText.describe(read)), old \(ValueText.describe(allowed[0])), new \(ValueText.describe(allowed[1]))")
            }
            model[key] = read
        }
        // Every key, with faults off.
        for key in named.sorted() {
            result.checks += 1
            let read: Swift.Result<[UInt8], KVSError> = StoreAgreement.read(store, key)
            let expected: Swift.Result<[UInt8], KVSError> = model[key].map { .success($0) } ?? .failure(.notFound)
            if read != expected {
                violation("after a read error, get returns a wrong answer",
                          "\(key): \(StoreAgreement.describe(read)), model \(StoreAgreement.describe(expected))")
            }
        }
        result.checks += 1
        var freshError: KVSError? = nil
        let differences = StoreAgreement.differences(
            store, image: swept.copy(of: flash.base), extraKeys: named.sorted(), open: { swept.makeStore($0) },
            freshInitError: &freshError)
        if !differences.isEmpty {
            violation("store disagrees with a fresh init over the same flash", differences.prefix(3).joined(separator: "; "))
        }
        // The rest of the workload runs without faults and without error.
        result.checks += 1
        for (number, operation) in swept.operations.enumerated() where number > index {
            // The model may have adopted the old value of a failed write:
            // then a delete of that key must say .notFound.
            if case .delete(let key) = operation, model[key] == nil {
                do throws(KVSError) {
                    try store.delete(key)
                    violation("a later delete of an absent key succeeds", "operation \(number) \(operation)")
                    return
                } catch .notFound {
                    continue
                } catch {
                    violation("a later operation fails after the read error (no faults)",
                              "operation \(number) \(operation) threw \(error.name), state \(store.state)")
                    return
                }
            }
            do throws(KVSError) {
                let read = try swept.perform(operation, on: &store, flash: flash)
                if case .get(let key) = operation, read != model[key] {
                    violation("a later get returns a wrong value",
                              "operation \(number) \(operation): \(ValueText.describe(read)), model \(ValueText.describe(model[key]))")
                    return
                }
                apply(operation)
            } catch {
                let stats = store.storageStats
                violation("a later operation fails after the read error (no faults)",
                          "operation \(number) \(operation) threw \(error.name), state \(store.state), "
                          + "in use \(stats.inUseBytes), reclaimable \(stats.reclaimableBytes), writable \(stats.writableBytes)")
                return
            }
        }
    }
}
