import FlashKVS

/// Cuts power at every flash program and erase of a workload, in every
/// applicable ``Interruption`` state, powers up (new store, `initialize()`
/// with lazy recovery) and checks the invariants against a model:
///
/// - `initialize()` returns (it never traps or hangs) with a documented
///   status;
/// - every put and delete that returned before the cut is visible, with
///   its value;
/// - the operation in flight reads as its old or its new value;
/// - no key that was never written appears; no value is garbage;
/// - the store accepts writes again (after maintenance if needed);
/// - a second cut during that recovery is survived too (one per scenario,
///   at a program or erase and in a state that vary with the scenario).
public struct PowerLossSweep {
    /// What one workload's sweep did and found.
    public struct Result: Sendable {
        public var workload: String
        /// Flash programs and erases in the workload (each a cut point).
        public var cutPoints = 0
        /// Cut point and interruption state combinations run.
        public var scenarios = 0
        /// Scenarios that also cut power during the recovery.
        public var secondCuts = 0
        /// Invariant checks made.
        public var checks = 0
        /// Broken invariants, described.
        public var violations: [String] = []

        public init(workload: String) { self.workload = workload }
    }

    /// The model: what each key must read after a power cut.
    struct Model {
        var values: [String: [UInt8]] = [:]
        /// The put or delete in flight at the cut: its key, old and new value.
        var inFlight: (key: String, old: [UInt8]?, new: [UInt8]?)?
    }

    public let workload: SweepWorkload
    /// Every how many scenarios a second cut is made during recovery.
    public var secondCutInterval: Int
    /// Called on the flash after each cut, before power-up (tests use it to
    /// damage the flash and prove that the invariant checks can fail).
    public var afterCut: (@Sendable (RAMFlash) -> Void)?

    public init(_ workload: SweepWorkload, secondCutInterval: Int = 1) {
        self.workload = workload
        self.secondCutInterval = secondCutInterval
    }

    /// Runs the whole sweep.
    public func run() -> Result {
        var result = Result(workload: workload.name)
        let dryFlash = workload.makeFlash()
        var noModel: Model? = nil
        guard run(on: dryFlash, model: &noModel, result: &result, label: "dry run") else { return result }
        let kinds = operationKinds(count: dryFlash.mediumOperations)
        result.cutPoints = kinds.count
        var scenario = 0
        for (index, isErase) in kinds.enumerated() {
            for interruption in Interruption.allCases
            where isErase ? interruption.appliesToErases : interruption.appliesToPrograms {
                scenario += 1
                result.scenarios += 1
                let label = "cut at operation \(index) (\(isErase ? "erase" : "program")), \(interruption)"
                cutAndPowerUp(at: index, interruption, secondCut: nil, result: &result, label: label)
                if scenario % secondCutInterval == 0 {
                    result.secondCuts += 1
                    cutAndPowerUp(at: index, interruption, secondCut: scenario, result: &result,
                                  label: label + ", second cut during recovery")
                }
            }
        }
        return result
    }

    /// Runs the workload with a cut at `index`, optionally cuts again during
    /// the recovery, then powers up and checks the invariants.
    private func cutAndPowerUp(
        at index: Int, _ interruption: Interruption, secondCut: Int?, result: inout Result, label: String
    ) {
        let flash = workload.makeFlash()
        flash.schedulePowerCut(atOperation: index, interruption: interruption)
        var model: Model? = Model()
        run(on: flash, model: &model, result: &result, label: label)
        flash.restorePower()
        afterCut?(flash)
        if let secondCut { cutDuringRecovery(flash, scenario: secondCut, result: &result, label: label) }
        powerUp(flash, model: model, result: &result, label: label, checkWrites: true)
    }

    /// Whether each program/erase of the workload is an erase, in order:
    /// the workload is replayed with a cut at each one.
    private func operationKinds(count: Int) -> [Bool] {
        (0..<count).map { index in
            let flash = workload.makeFlash()
            flash.schedulePowerCut(atOperation: index, interruption: .notApplied)
            var model: Model? = nil
            var scratch = Result(workload: workload.name)
            run(on: flash, model: &model, result: &scratch, label: "")
            return flash.lastMediumOperationWasErase
        }
    }

    /// Runs the workload until it ends or the power fails; keeps the model.
    /// - Returns: false if an operation failed without a power cut.
    @discardableResult
    private func run(on flash: RAMFlash, model: inout Model?, result: inout Result, label: String) -> Bool {
        guard var store = workload.makeStore(flash) else { return false }
        do { try store.initialize() } catch {
            if !flash.isPoweredOff { result.violations.append("\(label): first initialize: \(error.name)") }
            return false
        }
        for operation in workload.operations {
            do throws(KVSError) {
                switch operation {
                case .put(let key, let value):
                    let old = model?.values[key]
                    model?.inFlight = (key, old, value)
                    try store.put(key, value)
                    model?.values[key] = value
                case .delete(let key):
                    let old = model?.values[key]
                    model?.inFlight = (key, old, nil)
                    try store.delete(key)
                    model?.values[key] = nil
                case .partialMaintenance:
                    do throws(KVSError) { try store.partialMaintenance() } catch .notFound {}
                case .fullMaintenance: try store.fullMaintenance()
                case .heavyMaintenance: try store.heavyMaintenance()
                case .reinitialize:
                    guard let fresh = workload.makeStore(flash) else { return false }
                    store = fresh
                    try store.initialize()
                }
                model?.inFlight = nil
            } catch {
                if flash.isPoweredOff { return true }
                result.violations.append("\(label): \(operation) failed without a power cut: \(error.name)")
                return false
            }
        }
        return true
    }
}

extension PowerLossSweep {
    /// Powers up after a cut and checks every invariant.
    func powerUp(_ flash: RAMFlash, model: Model?, result: inout Result, label: String, checkWrites: Bool) {
        guard let model, let store = workload.makeStore(flash) else { return }
        result.checks += 1
        let initError: KVSError?
        do { try store.initialize(); initError = nil } catch { initError = error }
        if let initError {
            result.violations.append("\(label): initialize threw \(initError.name)")
            return
        }
        var keys = Set(model.values.keys)
        if let key = model.inFlight?.key { keys.insert(key) }
        for key in keys.sorted() {
            result.checks += 1
            let read: [UInt8]?
            do throws(KVSError) { read = try store.get(key) } catch .notFound { read = nil } catch {
                result.violations.append("\(label): get \(key) threw \(error.name)")
                continue
            }
            if let inFlight = model.inFlight, inFlight.key == key {
                if read != inFlight.old && read != inFlight.new {
                    result.violations.append("\(label): in-flight \(key) reads neither its old nor its new value")
                }
            } else if read != model.values[key] {
                result.violations.append("\(label): \(key) lost its committed value")
            }
        }
        for item in store.items {
            result.checks += 1
            let key = String(decoding: item.key, as: UTF8.self)
            if !keys.contains(key) { result.violations.append("\(label): unknown key \(key) appeared") }
        }
        guard checkWrites else { return }
        result.checks += 1
        if store.state != .ready { try? store.fullMaintenance() }
        // Enough writes to pass through every sector (a torn erase may have
        // left one that looks empty but is not), all of which must succeed.
        let rounds = 3 * workload.sectorCount * workload.sectorSize / 64
        var probes: [String: [UInt8]] = [:]
        for round in 0..<rounds {
            let key = "probe\(round % 3)"
            let value = SweepWorkload.value(1000 + round, length: 20 + round % 17)
            do throws(KVSError) {
                try store.put(key, value)
                probes[key] = value
            } catch {
                result.violations.append("\(label): write \(round) after recovery threw \(error.name)")
                return
            }
        }
        for (key, value) in probes where (try? store.get(key)) != value {
            result.violations.append("\(label): \(key) reads back wrong after recovery")
        }
    }

    /// Cuts power again during the recovery of `flash` (at a program or
    /// erase chosen by `scenario`), then powers up once more.
    func cutDuringRecovery(_ flash: RAMFlash, scenario: Int, result: inout Result, label: String) {
        // Count the recovery's programs and erases on a copy of the flash.
        let copy = workload.makeFlash()
        copy.load(flash.contents.span)
        let before = copy.mediumOperations
        if let store = workload.makeStore(copy) { try? store.initialize() }
        let recoveryOperations = copy.mediumOperations - before
        guard recoveryOperations > 0 else { return }
        let states: [Interruption] = [.notApplied, .applied, .programPrefix, .erasePartial]
        flash.schedulePowerCut(atOperation: scenario % recoveryOperations, interruption: states[scenario % states.count])
        if let store = workload.makeStore(flash) { try? store.initialize() }
        flash.restorePower()
    }
}
