import FlashKVS

/// One broken invariant, with what it takes to reproduce it.
public struct SweepViolation: Sendable, CustomStringConvertible {
    /// The invariant that broke, e.g. "initialize() threw DATA_LOSS"; the
    /// summary counts violations per kind.
    public var kind: String
    /// The workload (geometry) or run.
    public var workload: String
    /// Where: cut point and state, read index, operation number, seed...
    public var scenario: String
    /// What the store did.
    public var detail: String

    public init(kind: String, workload: String, scenario: String, detail: String) {
        self.kind = kind
        self.workload = workload
        self.scenario = scenario
        self.detail = detail
    }

    public var description: String {
        "\(workload) | \(scenario) | \(kind)" + (detail.isEmpty ? "" : ": \(detail)")
    }
}

extension SweepWorkload {
    /// Performs one operation on `store` (a re-init replaces it with a new
    /// store over `flash`). A partial maintenance with nothing to collect
    /// (`.notFound`) succeeds.
    /// - Returns: the value a `get` read (nil for a missing key), else nil.
    @discardableResult
    public func perform<Flash: FlashMemory>(
        _ operation: Operation, on store: inout KeyValueStore<Flash>, flash: Flash
    ) throws(KVSError) -> [UInt8]? {
        switch operation {
        case .put(let key, let value): try store.put(key, value)
        case .delete(let key): try store.delete(key)
        case .get(let key):
            do throws(KVSError) { return try store.get(key) } catch .notFound { return nil }
        case .partialMaintenance:
            do throws(KVSError) { try store.partialMaintenance() } catch .notFound {}
        case .fullMaintenance: try store.fullMaintenance()
        case .heavyMaintenance: try store.heavyMaintenance()
        case .reinitialize:
            store = try openStore(flash)
            try store.initialize()
        }
        return nil
    }

    /// Why the API refuses this configuration (KeyValueStore.init or
    /// initialize() on erased flash throws), or nil if it accepts it.
    public func refusalByAPI() -> String? {
        let flash = makeFlash()
        let store: KeyValueStore<RAMFlash>
        do throws(KVSError) { store = try openStore(flash) } catch { return "KeyValueStore.init throws \(error.name)" }
        do throws(KVSError) { try store.initialize() } catch { return "initialize() on erased flash throws \(error.name)" }
        return nil
    }

    /// Runs the workload without faults, checking each `get` against a
    /// model. Returns the index of the first operation that failed (or
    /// read a wrong value) and why; nil if all succeeded.
    public func dryRunFailure<Flash: FlashMemory>(on flash: Flash) -> (index: Int, reason: String)? {
        var store: KeyValueStore<Flash>
        do throws(KVSError) {
            store = try openStore(flash)
            try store.initialize()
        } catch { return (-1, "initialize() on erased flash threw \(error.name)") }
        var model: [String: [UInt8]] = [:]
        for (index, operation) in operations.enumerated() {
            do throws(KVSError) {
                let read = try perform(operation, on: &store, flash: flash)
                switch operation {
                case .put(let key, let value): model[key] = value
                case .delete(let key): model[key] = nil
                case .get(let key):
                    if read != model[key] {
                        return (index, "\(operation) read \(ValueText.describe(read)), expected \(ValueText.describe(model[key]))")
                    }
                default: break
                }
            } catch {
                return (index, "\(operation) threw \(error.name)")
            }
        }
        return nil
    }

    /// The workload cut before operation `index`.
    /// The workload without the puts that a store never cut refuses for
    /// space (`.resourceExhausted`): large values of up to half a sector do
    /// not always pack into the distinct sectors that copies and the
    /// erased reserve need, whatever the live data's share of the space.
    /// A load the geometry cannot take says nothing about fault tolerance.
    public func feasible() -> SweepWorkload {
        var copy = self
        copy.operations = []
        let flash = makeFlash()
        guard var store = try? openStore(flash), (try? store.initialize()) != nil else { return self }
        for operation in operations {
            do throws(KVSError) {
                _ = try perform(operation, on: &store, flash: flash)
            } catch .resourceExhausted {
                if case .put = operation { continue }
            } catch {}
            copy.operations.append(operation)
        }
        return copy
    }

    /// The part of the workload a sweep runs: all of it, or the operations
    /// before the first that fails without any fault, which is appended to
    /// `records` as a violation.
    public func sweptPart(records: inout [SweepViolation]) -> SweepWorkload {
        guard let failure = dryRunFailure(on: makeFlash()) else { return self }
        records.append(SweepViolation(
            kind: "operation fails without any fault", workload: name,
            scenario: "dry run, operation \(failure.index)", detail: failure.reason))
        return prefix(failure.index)
    }

    public func prefix(_ index: Int) -> SweepWorkload {
        var copy = self
        copy.operations = Array(operations.prefix(max(0, index)))
        return copy
    }
}
