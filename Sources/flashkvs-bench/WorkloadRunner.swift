import BenchmarkWorkloads
import FlashKVS

/// The store type every run measures: the real store on the counting RAM
/// flash.
typealias BenchStore = KeyValueStore<RAMFlash>

/// The flash counters of one phase and the per-sector erase summary.
struct FlashUsage {
    var counters: RAMFlash.Counters
    var eraseMin: Int
    var eraseMedian: Double
    var eraseMax: Int

    init(_ flash: RAMFlash) {
        counters = flash.counters
        let sorted = flash.eraseCounts.sorted()
        eraseMin = sorted.first ?? 0
        eraseMax = sorted.last ?? 0
        if sorted.isEmpty {
            eraseMedian = 0
        } else if sorted.count % 2 == 1 {
            eraseMedian = Double(sorted[sorted.count / 2])
        } else {
            eraseMedian = Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }
}

/// Outcome counts of the setup and timed phases (WORKLOADS.md section 6).
struct OperationResults {
    var putFailures = 0
    var getOK = 0
    var getNotFound = 0
    var getOther = 0
    var deleteOK = 0
    var deleteNotFound = 0
    var deleteOther = 0
    var initFailures = 0
    var setupFailures = 0
    var getDigest = FNV1a64.offsetBasis
}

/// The re-opened store after the run.
struct FinalState {
    var size = 0
    var transactionCount = 0
    var stats = StorageStats()
    /// `StorageStats.sectorEraseCount` of the store used in setup and the
    /// timed phase.
    var kvsSectorEraseCount = 0
    var digest = FNV1a64.offsetBasis
}

/// Heap allocations measured around the phases of one run.
struct HeapUsage {
    /// During the timed phase.
    var timed = HeapCounter(calls: 0, bytes: 0)
    /// While constructing the store object (its RAM).
    var storeConstruction = HeapCounter(calls: 0, bytes: 0)
    /// During `initialize()` of the re-opened store (after construction).
    var initialize = HeapCounter(calls: 0, bytes: 0)
}

/// Everything one run (WORKLOADS.md section 4, steps 1-6) measured.
struct RunResult {
    var wallSeconds: Double
    var setupFlash: FlashUsage
    var timedFlash: FlashUsage
    var results: OperationResults
    var final: FinalState
    var heap: HeapUsage
    /// Why verification failed; empty when it passed.
    var verifyErrors: [String]
}

/// Runs a plan against a fresh store: init, setup, the timed phase, then
/// the verification against the dictionary model.
struct WorkloadRunner {
    let configuration: BenchConfiguration
    let plan: WorkloadPlan
    let model: ModelOutcome

    private var format: EntryFormat {
        EntryFormat(magic: configuration.magic, checksum: configuration.checksum == .crc16 ? .crc16 : .none)
    }

    private func makeStore(_ partition: FlashPartition<RAMFlash>) throws(KVSError) -> BenchStore {
        try BenchStore(partition: partition, format: format, capacity: configuration.maxEntries,
                       redundancy: configuration.redundancy)
    }

    /// Performs steps 1-6 once on a new flash.
    func run() -> RunResult {
        let flash = RAMFlash(sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount,
                             alignment: configuration.alignment)
        var results = OperationResults()
        var heap = HeapUsage()
        var errors: [String] = []
        let partition: FlashPartition<RAMFlash>
        do {
            partition = try FlashPartition(flash)
        } catch {
            return failedRun(flash, "partition: \(error.name)")
        }

        // 1. Init (untimed).
        let beforeConstruction = HeapCounter.now
        let store: BenchStore
        do {
            store = try makeStore(partition)
        } catch {
            return failedRun(flash, "store construction: \(error.name)")
        }
        heap.storeConstruction = HeapCounter.now.since(beforeConstruction)
        do { try store.initialize() } catch { results.initFailures += 1 }

        // 2. Setup (untimed).
        if plan.workload != .fill {
            plan.values.withUnsafeBufferPointer { values in
                plan.keyBytes.withUnsafeBufferPointer { keys in
                    for key in 0..<plan.keyCount {
                        let offset = plan.fillValueOffset(key)
                        do {
                            try store.put(Self.key(key, in: keys).span, values.extracting(offset..<offset + plan.valueSize).span)
                        } catch {
                            results.setupFailures += 1
                        }
                    }
                }
            }
        }
        let setupFlash = FlashUsage(flash)

        // 3-5. The timed phase.
        let getBuffer = UnsafeMutableBufferPointer<UInt8>.allocate(
            capacity: max(plan.valueSize * plan.operations.count { $0.kind == .get }, 1))
        defer { getBuffer.deallocate() }
        getBuffer.initialize(repeating: 0xA5)  // touches every page before timing
        flash.resetCounters()
        let heapBefore = HeapCounter.now
        let clock = ContinuousClock()
        let start = clock.now
        let filledGetBytes = timedPhase(store, partition, getBuffer, &results)
        let elapsed = start.duration(to: clock.now)
        heap.timed = HeapCounter.now.since(heapBefore)
        let timedFlash = FlashUsage(flash)

        // 6. Verification (untimed).
        var getDigest = FNV1a64()
        getDigest.combine(UnsafeBufferPointer(getBuffer.extracting(0..<filledGetBytes)).span)
        results.getDigest = getDigest.value
        var final = FinalState()
        final.kvsSectorEraseCount = store.storageStats.sectorEraseCount
        errors += compareWithModel(results)
        errors += verifyReopened(partition, &final, &heap)

        let components = elapsed.components
        let seconds = Double(components.seconds) + Double(components.attoseconds) * 1e-18
        return RunResult(wallSeconds: seconds, setupFlash: setupFlash, timedFlash: timedFlash, results: results,
                         final: final, heap: heap, verifyErrors: errors)
    }

    /// The bytes of key `key` within all the key bytes.
    @inline(__always)
    private static func key(_ key: Int, in keys: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        keys.extracting(key * BenchmarkKeys.length..<(key + 1) * BenchmarkKeys.length)
    }

    /// Executes the timed ops. Each successful get reads into its own
    /// V-byte slot of `getBuffer` (the get digest is computed after the
    /// timer stops). Returns the bytes of `getBuffer` filled. Never
    /// inlined: Scripts/bench-profile.sh profiles exactly this function.
    @inline(never)
    private func timedPhase(
        _ store: BenchStore, _ partition: FlashPartition<RAMFlash>, _ getBuffer: UnsafeMutableBufferPointer<UInt8>,
        _ results: inout OperationResults
    ) -> Int {
        let valueSize = plan.valueSize
        var filled = 0
        plan.values.withUnsafeBufferPointer { values in
            plan.keyBytes.withUnsafeBufferPointer { keys in
                switch plan.workload {
                case .fill:
                    for key in 0..<plan.keyCount {
                        let offset = plan.fillValueOffset(key)
                        do {
                            try store.put(Self.key(key, in: keys).span, values.extracting(offset..<offset + valueSize).span)
                        } catch {
                            results.putFailures += 1
                        }
                    }
                case .initialize:
                    for _ in 0..<plan.operationCount {
                        do {
                            let reopened = try makeStore(partition)
                            try reopened.initialize()
                        } catch {
                            results.initFailures += 1
                        }
                    }
                case .update, .read, .mixed:
                    plan.operations.withUnsafeBufferPointer { operations in
                        for operation in operations {
                            let key = Self.key(Int(operation.key), in: keys).span
                            switch operation.kind {
                            case .get:
                                var slot = getBuffer.extracting(filled..<filled + valueSize).mutableSpan
                                do throws(KVSError) {
                                    if try store.get(key, into: &slot) == valueSize {
                                        results.getOK += 1
                                        filled += valueSize
                                    } else {
                                        results.getOther += 1
                                    }
                                } catch .notFound {
                                    results.getNotFound += 1
                                } catch {
                                    results.getOther += 1
                                }
                            case .put:
                                let offset = operation.valueOffset
                                do {
                                    try store.put(key, values.extracting(offset..<offset + valueSize).span)
                                } catch {
                                    results.putFailures += 1
                                }
                            case .delete:
                                do throws(KVSError) {
                                    try store.delete(key)
                                    results.deleteOK += 1
                                } catch .notFound {
                                    results.deleteNotFound += 1
                                } catch {
                                    results.deleteOther += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return filled
    }

    /// Differences between the outcome counts and the model's.
    private func compareWithModel(_ results: OperationResults) -> [String] {
        var errors: [String] = []
        func expect(_ name: String, _ got: Int, _ expected: Int) {
            if got != expected { errors.append("\(name): \(got), expected \(expected)") }
        }
        expect("put failures", results.putFailures, 0)
        expect("setup failures", results.setupFailures, 0)
        expect("init failures", results.initFailures, 0)
        expect("get ok", results.getOK, model.getOK)
        expect("get not found", results.getNotFound, model.getNotFound)
        expect("get other", results.getOther, 0)
        expect("delete ok", results.deleteOK, model.deleteOK)
        expect("delete not found", results.deleteNotFound, model.deleteNotFound)
        expect("delete other", results.deleteOther, 0)
        if results.getDigest != model.getDigest {
            errors.append("get digest \(FNV1a64.hex(results.getDigest)), expected \(FNV1a64.hex(model.getDigest))")
        }
        return errors
    }

    /// Re-opens the store over the same flash, reads every key back and
    /// compares it with the model; fills `final`.
    private func verifyReopened(
        _ partition: FlashPartition<RAMFlash>, _ final: inout FinalState, _ heap: inout HeapUsage
    ) -> [String] {
        var errors: [String] = []
        let reopened: BenchStore
        do {
            reopened = try makeStore(partition)
            let before = HeapCounter.now
            defer { heap.initialize = HeapCounter.now.since(before) }
            try reopened.initialize()
        } catch {
            return ["re-open: \(error.name)"]
        }
        var buffer = [UInt8](repeating: 0, count: plan.valueSize)
        var mismatches = 0
        final.digest = FNV1a64.finalDigest(keyCount: plan.keyCount) { key in
            var span = buffer.mutableSpan
            let stored: [UInt8]?
            do throws(KVSError) {
                let count = try reopened.get(plan.key(key).span, into: &span)
                stored = Array(buffer[0..<count])
            } catch .notFound {
                stored = nil
            } catch {
                errors.append("read back key \(key): \(error.name)")
                stored = nil
            }
            if stored != model.finalValues[key] { mismatches += 1 }
            return stored
        }
        if mismatches > 0 { errors.append("\(mismatches) keys differ from the model after re-open") }
        final.size = reopened.count
        final.transactionCount = Int(reopened.transactionCount)
        final.stats = reopened.storageStats
        if final.size != model.finalSize { errors.append("size \(final.size), expected \(model.finalSize)") }
        if final.transactionCount != model.transactionCount {
            errors.append("transaction count \(final.transactionCount), expected \(model.transactionCount)")
        }
        return errors
    }

    private func failedRun(_ flash: RAMFlash, _ error: String) -> RunResult {
        RunResult(wallSeconds: 0, setupFlash: FlashUsage(flash), timedFlash: FlashUsage(flash),
                  results: OperationResults(), final: FinalState(), heap: HeapUsage(), verifyErrors: [error])
    }
}
