import FlashKVS

/// Cuts power at every flash program and erase of a workload, in every
/// applicable interruption state, powers up (new store, `initialize()`
/// with lazy recovery) and checks, against a model (issue 17):
///
/// - `initialize()` succeeds (any error is a violation);
/// - every put and delete that returned before the cut is visible, with
///   its value; deleted keys stay deleted;
/// - the operation in flight reads as its old or its new value;
/// - no key that was never written appears; iteration lists exactly the
///   present keys;
/// - the store agrees with a fresh init over the same flash
///   (``StoreAgreement``), right after the recovery and after the writes;
/// - the store accepts writes again WITHOUT the caller doing anything
///   (no maintenance call): enough puts to write the whole partition,
///   rewriting the keys with values as large as theirs, plus a new key;
///   all succeed and read back;
/// - a second cut during the recovery (in `initialize()` or the first put
///   after it) is survived too, checked the same way (a sample: every
///   `secondCutInterval`-th scenario).
///
/// States: RAMFlash's ``Interruption`` cases that apply to the operation,
/// plus two erase states RAMFlash does not model: ``CutState/eraseTailOnly``
/// (the second half erased, the first half old) and
/// ``CutState/eraseZeroed`` (NOR erase pre-programs every byte to 0x00
/// first; the cut came between).
public struct PowerLossSweep {
    /// How the operation at the cut is left.
    public enum CutState: Hashable, Sendable, CustomStringConvertible {
        /// RAMFlash's own states (`RAMFlash.schedulePowerCut`).
        case flash(Interruption)
        /// An erase that reached only the second half of the sector.
        case eraseTailOnly
        /// An erase cut after its pre-programming: every byte 0x00.
        case eraseZeroed

        public var description: String {
            switch self {
            case .flash(let interruption): "\(interruption)"
            case .eraseTailOnly: "eraseTailOnly"
            case .eraseZeroed: "eraseZeroed"
            }
        }

        public static let programStates: [CutState] = Interruption.allCases.filter(\.appliesToPrograms).map { .flash($0) }
        public static let eraseStates: [CutState] =
            Interruption.allCases.filter(\.appliesToErases).map { .flash($0) } + [.eraseTailOnly, .eraseZeroed]
        /// Every state, in table order.
        public static let all: [CutState] = programStates + [.flash(.erasePartial), .eraseTailOnly, .eraseZeroed]

        /// The state to schedule on RAMFlash (harness states cut before the erase).
        var interruption: Interruption {
            if case .flash(let interruption) = self { return interruption }
            return .notApplied
        }

        /// Applies a harness state to the operation's range after the cut.
        func damage(_ flash: RAMFlash, _ operation: FaultyFlash.MediumOperation) {
            switch self {
            case .flash: return
            case .eraseTailOnly:
                for address in (operation.address + operation.length / 2)..<(operation.address + operation.length) {
                    flash[address] = flash.erasedByte
                }
            case .eraseZeroed:
                for address in operation.address..<(operation.address + operation.length) { flash[address] = 0 }
            }
        }
    }

    /// Counts for one interruption state.
    public struct Tally: Sendable {
        public var cutPoints = 0
        public var scenarios = 0
        public var secondCuts = 0
        public var checks = 0
        public var violations = 0
        public init() {}
    }

    /// What one workload's sweep did and found.
    public struct Result: Sendable {
        public var workload: String
        /// Operations swept (a dry-run failure cuts the workload short).
        public var operations = 0
        /// Flash programs and erases in the workload (each a cut point).
        public var cutPoints = 0
        /// Cut point and interruption state combinations run.
        public var scenarios = 0
        /// Scenarios that also cut power during the recovery.
        public var secondCuts = 0
        /// Invariant checks made.
        public var checks = 0
        /// Per interruption state, in ``CutState/all`` order.
        public var perState: [CutState: Tally] = [:]
        /// Broken invariants.
        public var records: [SweepViolation] = []
        /// Why the store's API refuses the geometry (then nothing ran).
        public var refusedByAPI: String?
        /// Recoveries whose writes failed as they do on a store never cut
        /// (the load does not fit the geometry): not violations.
        public var infeasibleWrites = 0

        /// Broken invariants, described.
        public var violations: [String] { records.map(\.description) }

        public init(workload: String) { self.workload = workload }
    }

    /// The model: what each key must read after a power cut.
    struct Model {
        var values: [String: [UInt8]] = [:]
        /// Every key named so far (deleted ones must read `.notFound`).
        var named: Set<String> = []
        /// Operations in flight at a cut: key -> (old, new) value.
        var inFlight: [String: (old: [UInt8]?, new: [UInt8]?)] = [:]
        /// The workload operation in flight at the first cut.
        var cutOperation: String = "none"
    }

    public let workload: SweepWorkload
    /// Every how many scenarios a second cut is made during recovery.
    public var secondCutInterval: Int
    /// Called on the flash after each cut, before power-up (tests use it to
    /// damage the flash and prove that the invariant checks can fail).
    public var afterCut: (@Sendable (RAMFlash) -> Void)?
    /// Only these cut points (nil: all); for reproducing one scenario.
    public var onlyCutPoints: Range<Int>?
    /// Programs inside a run of contiguous programs (one entry streamed in
    /// chunks) are cut only at every `programStride`-th; the first and
    /// last program of each run (the header is programmed last) and every
    /// erase are always cut. 1: every program.
    public var programStride = 1

    public init(_ workload: SweepWorkload, secondCutInterval: Int = 1) {
        self.workload = workload
        self.secondCutInterval = secondCutInterval
    }

    /// The key of the first write after a recovery (a new key).
    static let probeKey = "probe0"
    static let probeValue = SweepWorkload.randomValue(999_999, length: 24)

    /// Runs the whole sweep.
    public func run() -> Result {
        var result = Result(workload: workload.name)
        if let refusal = workload.refusalByAPI() {
            result.refusedByAPI = refusal
            return result
        }
        // Dry run: record every program and erase.
        let swept = workload.sweptPart(records: &result.records)
        result.operations = swept.operations.count
        let recorder = FaultyFlash(swept.makeFlash())
        recorder.recordsMediumOperations = true
        _ = swept.dryRunFailure(on: recorder)
        let cutPoints = recorder.mediumOperations
        result.cutPoints = cutPoints.count
        var scenario = 0
        for (index, operation) in cutPoints.enumerated() {
            if let only = onlyCutPoints, !only.contains(index) { continue }
            if programStride > 1 && !operation.isErase && index % programStride != 0
                && index > 0 && index + 1 < cutPoints.count {
                let previous = cutPoints[index - 1], next = cutPoints[index + 1]
                let continues = !previous.isErase && previous.address + previous.length == operation.address
                let continued = !next.isErase && operation.address + operation.length == next.address
                if continues && continued { continue }
            }
            let states = operation.isErase ? CutState.eraseStates : CutState.programStates
            for state in states {
                scenario += 1
                var tally = result.perState[state] ?? Tally()
                tally.cutPoints += 1
                tally.scenarios += 1
                let where_ = operation.isErase
                    ? "cut \(index) (erase of sector \(operation.address / swept.sectorSize)), \(state)"
                    : "cut \(index) (program [\(operation.address)+\(operation.length)]), \(state)"
                let violationsBefore = result.records.count
                let checksBefore = result.checks
                cutAndPowerUp(swept, at: index, operation, state, secondCut: nil, result: &result, scenario: where_)
                if secondCutInterval > 0 && scenario % secondCutInterval == 0 {
                    if cutAndPowerUp(swept, at: index, operation, state, secondCut: scenario, result: &result,
                                     scenario: where_) {
                        tally.secondCuts += 1
                        result.secondCuts += 1
                    }
                }
                tally.checks += result.checks - checksBefore
                tally.violations += result.records.count - violationsBefore
                result.perState[state] = tally
                result.scenarios += 1
            }
        }
        return result
    }

    /// Runs the workload with a cut at `index`, optionally cuts again during
    /// the recovery, then powers up and checks the invariants.
    /// - Returns: whether a second cut was made.
    @discardableResult
    private func cutAndPowerUp(
        _ swept: SweepWorkload, at index: Int, _ operation: FaultyFlash.MediumOperation, _ state: CutState,
        secondCut: Int?, result: inout Result, scenario: String
    ) -> Bool {
        let flash = swept.makeFlash()
        flash.schedulePowerCut(atOperation: index, interruption: state.interruption)
        var model = Model()
        guard run(swept, on: flash, model: &model, result: &result, scenario: scenario) else { return false }
        flash.restorePower()
        state.damage(flash, operation)
        afterCut?(flash)
        var label = scenario + ", in flight: \(model.cutOperation)"
        var cutAgain = false
        if let secondCut, let second = cutDuringRecovery(swept, flash, scenario: secondCut, model: &model) {
            label += ", second cut during recovery: \(second)"
            cutAgain = true
        } else if secondCut != nil {
            return false  // the recovery neither writes nor erases: nothing to cut
        }
        powerUp(swept, flash, model: model, result: &result, scenario: label)
        return cutAgain
    }

    /// Runs the workload until the power fails; keeps the model.
    /// - Returns: false if the cut never came (a violation: the workload
    ///   ran differently from its dry run).
    private func run(_ swept: SweepWorkload, on flash: RAMFlash, model: inout Model, result: inout Result, scenario: String) -> Bool {
        guard var store = swept.makeStore(flash) else { return false }
        do { try store.initialize() } catch {
            if flash.isPoweredOff { return true }
            result.records.append(SweepViolation(kind: "operation fails without any fault", workload: swept.name,
                                                 scenario: scenario, detail: "first initialize(): \(error.name)"))
            return false
        }
        for (number, operation) in swept.operations.enumerated() {
            switch operation {
            case .put(let key, let value):
                model.inFlight = [key: (model.values[key], value)]
                model.named.insert(key)
            case .delete(let key):
                model.inFlight = [key: (model.values[key], nil)]
                model.named.insert(key)
            default:
                model.inFlight = [:]
            }
            model.cutOperation = "operation \(number) \(operation)"
            do throws(KVSError) {
                try swept.perform(operation, on: &store, flash: flash)
            } catch {
                if flash.isPoweredOff { return true }
                result.records.append(SweepViolation(
                    kind: "operation fails without any fault", workload: swept.name, scenario: scenario,
                    detail: "operation \(number) \(operation) threw \(error.name) before the cut"))
                return false
            }
            switch operation {
            case .put(let key, let value): model.values[key] = value
            case .delete(let key): model.values[key] = nil
            default: break
            }
            model.inFlight = [:]
        }
        if flash.isPoweredOff { return true }
        result.records.append(SweepViolation(kind: "cut point not reached (the workload is not deterministic)",
                                             workload: swept.name, scenario: scenario, detail: ""))
        return false
    }

    /// Cuts power again during the recovery of `flash` (initialize() and the
    /// first put after it), at a program or erase and in a state chosen by
    /// `scenario`; the first put becomes an operation in flight.
    /// - Returns: a description of the second cut, or nil if the recovery
    ///   neither writes nor erases.
    func cutDuringRecovery(_ swept: SweepWorkload, _ flash: RAMFlash, scenario: Int, model: inout Model) -> String? {
        // The recovery's programs and erases, on a copy of the flash.
        let copy = FaultyFlash(swept.copy(of: flash))
        copy.recordsMediumOperations = true
        if let store = swept.makeStore(copy) {
            try? store.initialize()
            try? store.put(Self.probeKey, Self.probeValue)
        }
        let operations = copy.mediumOperations
        guard !operations.isEmpty else { return nil }
        let index = (scenario &* 7919) % operations.count
        let operation = operations[index]
        let states = operation.isErase ? CutState.eraseStates : CutState.programStates
        let state = states[(scenario / max(1, secondCutInterval)) % states.count]
        flash.schedulePowerCut(atOperation: index, interruption: state.interruption)
        if let store = swept.makeStore(flash) {
            if (try? store.initialize()) != nil || !flash.isPoweredOff {
                try? store.put(Self.probeKey, Self.probeValue)
            }
        }
        let happened = flash.isPoweredOff
        flash.restorePower()
        guard happened else { return nil }
        state.damage(flash, operation)
        model.inFlight[Self.probeKey] = (nil, Self.probeValue)
        model.named.insert(Self.probeKey)
        let what = operation.isErase ? "erase of sector \(operation.address / swept.sectorSize)"
            : "program [\(operation.address)+\(operation.length)]"
        return "recovery operation \(index) (\(what)), \(state)"
    }
}

extension PowerLossSweep {
    /// Powers up after a cut and checks every invariant.
    func powerUp(_ swept: SweepWorkload, _ flash: RAMFlash, model: Model, result: inout Result, scenario: String) {
        func violation(_ kind: String, _ detail: String = "") {
            result.records.append(SweepViolation(kind: kind, workload: swept.name, scenario: scenario, detail: detail))
        }
        guard let store = swept.makeStore(flash) else { return }
        var model = model
        result.checks += 1
        var initFailed = false
        do throws(KVSError) { try store.initialize() } catch {
            initFailed = true
            violation("initialize() after the cut threw \(error.name)",
                      "state \(store.state), scan: \(Self.describe(store.lastScan))")
            if store.state == .notInitialized { return }
        }
        // Every key: committed value, deleted, or old/new if in flight.
        for key in model.named.union(model.inFlight.keys).sorted() {
            result.checks += 1
            let read: [UInt8]?
            do throws(KVSError) { read = try store.get(key) } catch .notFound { read = nil } catch {
                violation("get after recovery threw \(error.name)", "key \(key)")
                continue
            }
            if let inFlight = model.inFlight[key] {
                if read != inFlight.old && read != inFlight.new {
                    violation("in-flight key reads neither its old nor its new value",
                              "\(key): read \(ValueText.describe(read)), old \(ValueText.describe(inFlight.old)), new \(ValueText.describe(inFlight.new))")
                }
                model.values[key] = read
            } else if read != model.values[key] {
                violation(model.values[key] == nil ? "deleted or never-written key reads a value" : "committed key lost its value",
                          "\(key): read \(ValueText.describe(read)), committed \(ValueText.describe(model.values[key]))")
            }
        }
        model.inFlight = [:]
        // Iteration: exactly the present keys.
        result.checks += 1
        let listed = StoreAgreement.snapshot(store)
        let expected = Set(model.values.keys)
        if listed.presentKeys != expected || listed.unreadableItems > 0 {
            let unknown = listed.presentKeys.subtracting(expected).sorted()
            let missing = expected.subtracting(listed.presentKeys).sorted()
            violation("iteration differs from the model",
                      "unknown \(unknown), missing \(missing), unreadable \(listed.unreadableItems)")
        }
        // A failed init is reported once (a fresh init fails the same way).
        guard !initFailed else { return }
        // The RAM tables agree with flash.
        checkAgreement(swept, store, flash, model: model, result: &result, scenario: scenario, when: "after the recovery")

        // Writes, without any maintenance call: a new key first, then every
        // present key rewritten with a value as large as its own, until the
        // whole partition has been written (live data does not grow).
        let writes = Self.recoveryWrites(swept, model.values)
        for (number, (key, value)) in writes.enumerated() {
            result.checks += 1
            do throws(KVSError) {
                try store.put(key, value)
                model.values[key] = value
                model.named.insert(key)
            } catch {
                // Control: the same writes on a store holding the same values,
                // written without any cut. If it fails too, the load is the
                // cause, not the cut.
                if Self.controlFails(swept, model.values, writes) != nil {
                    // The same writes fail on a store never cut: the load, not the cut.
                    result.infeasibleWrites += 1
                    return
                }
                let stats = store.storageStats
                violation("put after recovery threw \(error.name)",
                          "write \(number) of \(writes.count) (\(key), \(value.count) B), state \(store.state), "
                          + "in use \(stats.inUseBytes), reclaimable \(stats.reclaimableBytes), writable \(stats.writableBytes)")
                return
            }
        }
        for key in model.values.keys.sorted() {
            result.checks += 1
            let read = try? store.get(key)
            if read != model.values[key] {
                violation("value written after recovery reads back wrong",
                          "\(key): read \(ValueText.describe(read)), wrote \(ValueText.describe(model.values[key]))")
            }
        }
        checkAgreement(swept, store, flash, model: model, result: &result, scenario: scenario, when: "after the writes")
    }

    /// The writes after a recovery: a new key (24 B), then the present
    /// keys rewritten in turn, each with a new value as long as its
    /// current one (a probe key of a quarter sector if none is present),
    /// until the whole partition has been written.
    static func recoveryWrites(_ swept: SweepWorkload, _ values: [String: [UInt8]]) -> [(String, [UInt8])] {
        var writes: [(String, [UInt8])] = [(probeKey, probeValue)]
        let keys = values.keys.sorted()
        let partition = swept.sectorCount * swept.sectorSize
        let geometry = SweepGeometry(sectorSize: swept.sectorSize, sectorCount: swept.sectorCount,
                                     alignment: swept.alignment, redundancy: swept.redundancy, checksum: .crc16)
        var bytes = 0, round = 0
        while (bytes < partition || round < 2 * swept.sectorCount) && round < 400 {
            let key = keys.isEmpty ? "probe1" : keys[round % keys.count]
            let length = keys.isEmpty ? swept.sectorSize / 4 : max(1, values[key]!.count)
            writes.append((key, SweepWorkload.randomValue(500_000 + round, length: length)))
            bytes += geometry.entrySize(keyLength: key.utf8.count, valueLength: length) * swept.redundancy
            round += 1
        }
        return writes
    }

    /// Writes `values` on a new store (no cut), then `writes`; returns the
    /// first failure, or nil.
    static func controlFails(_ swept: SweepWorkload, _ values: [String: [UInt8]], _ writes: [(String, [UInt8])]) -> String? {
        let flash = swept.makeFlash()
        guard let store = swept.makeStore(flash) else { return "no store" }
        do throws(KVSError) {
            try store.initialize()
            for key in values.keys.sorted() { try store.put(key, values[key]!) }
        } catch { return "writing the recovered values threw \(error.name)" }
        for (number, (key, value)) in writes.enumerated() {
            do throws(KVSError) { try store.put(key, value) } catch { return "write \(number) threw \(error.name)" }
        }
        return nil
    }

    func checkAgreement(
        _ swept: SweepWorkload, _ store: KeyValueStore<RAMFlash>, _ flash: RAMFlash, model: Model,
        result: inout Result, scenario: String, when: String
    ) {
        result.checks += 1
        var freshError: KVSError? = nil
        let differences = StoreAgreement.differences(
            store, image: swept.copy(of: flash), extraKeys: model.named.sorted(),
            open: { swept.makeStore($0) }, freshInitError: &freshError)
        guard !differences.isEmpty else { return }
        result.records.append(SweepViolation(
            kind: "store disagrees with a fresh init over the same flash (\(when))", workload: swept.name,
            scenario: scenario, detail: differences.prefix(3).joined(separator: "; ")))
    }

    static func describe(_ scan: ScanReport) -> String {
        var parts: [String] = []
        if scan.corruptEntries > 0 { parts.append("corruptEntries \(scan.corruptEntries)") }
        if scan.corruptSectors > 0 { parts.append("corruptSectors \(scan.corruptSectors)") }
        if scan.gapsFound > 0 { parts.append("gaps \(scan.gapsFound)") }
        if scan.keysMissingCopies > 0 { parts.append("keysMissingCopies \(scan.keysMissingCopies)") }
        if scan.noErasedSector { parts.append("noErasedSector") }
        if scan.entriesNotLoaded > 0 { parts.append("entriesNotLoaded \(scan.entriesNotLoaded)") }
        if scan.unrecognizedData { parts.append("unrecognizedData") }
        if scan.failedReads > 0 { parts.append("failedReads \(scan.failedReads)") }
        return parts.isEmpty ? "clean" : parts.joined(separator: ", ")
    }
}
