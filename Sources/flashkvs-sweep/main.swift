// The adversarial power-loss and fault sweep (issues 4 and 17): prints
// per workload and interruption state the cut points, checks and
// findings of the power-cut sweep, then the read-fault sweep, the random
// fault workload and the sector-damage sweep; then a total of the
// findings (the violations) per kind with examples; exits 1 on any
// violation.
//
//     swift run -c release flashkvs-sweep [--quick] [--only power|reads|random|damage|batches]
//                                         [--examples N] [--dump] [--cut N] [NAME-FILTER...]
//
// --dump prints the operations of the selected power-cut and read-fault workloads; --cut N
// runs only cut point N of the power-cut sweep (to reproduce one scenario:
// `--only power --cut 94 6x512-a16-r2-crc16-v11`); --rotations N,
// --max-operations N and --variants N resize the generated workloads.
//
// --batch-deep cuts the batches' recovery at every operation in every
// interruption state, then every such recovery again at every operation
// (about 880,000 scenarios, 1.5 minutes).
//
// A NAME-FILTER keeps the workloads whose name contains it (e.g. `4x256`).
import FlashKVS
import FlashKVSStress
#if canImport(Glibc)
import Glibc
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
var quick = false
var only: String? = nil
var examples = 3
var filters: [String] = []
var dump = false
var onlyCut: Int? = nil
var variants: Int? = nil
var rotations: Int? = nil
var maxOperations: Int? = nil
var batchDeep = false
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--quick": quick = true
    case "--only": only = arguments.isEmpty ? nil : arguments.removeFirst()
    case "--dump": dump = true
    case "--batch-deep": batchDeep = true
    case "--cut": onlyCut = Int(arguments.isEmpty ? "" : arguments.removeFirst())
    case "--variants": variants = Int(arguments.isEmpty ? "" : arguments.removeFirst())
    case "--rotations": rotations = Int(arguments.isEmpty ? "" : arguments.removeFirst())
    case "--max-operations": maxOperations = Int(arguments.isEmpty ? "" : arguments.removeFirst())
    case "--examples": examples = Int(arguments.isEmpty ? "" : arguments.removeFirst()) ?? 3
    case "--help", "-h":
        print("usage: flashkvs-sweep [--quick] [--dump] [--cut N] [--rotations N] [--max-operations N] [--variants N] [--only power|reads|random|damage|batches] [--batch-deep] [--examples N] [NAME-FILTER...]")
        exit(0)
    default: filters.append(argument)
    }
}
@MainActor func selected(_ name: String) -> Bool { filters.isEmpty || filters.contains { name.contains($0) } }

var all: [SweepViolation] = []
var refused: [String] = []
var totalChecks = 0
let started = clock_gettime_nsec_np_fallback()

func clock_gettime_nsec_np_fallback() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
func seconds(since start: UInt64) -> String {
    let tenths = (clock_gettime_nsec_np_fallback() - start) / 100_000_000
    return "\(tenths / 10).\(tenths % 10) s"
}

// MARK: Power cuts

let powerWorkloads = quick
    ? SweepPlan.powerWorkloads(rotations: rotations ?? 1, maxOperations: maxOperations ?? 30, focusVariants: variants ?? 1)
    : SweepPlan.powerWorkloads(rotations: rotations ?? 3, maxOperations: maxOperations ?? 100, focusVariants: variants ?? 24)

if dump {
    // The operations of the selected workloads, to reproduce a violation.
    let readWorkloads = quick ? SweepPlan.readFaultWorkloads(rotations: 1, maxOperations: 16) : SweepPlan.readFaultWorkloads()
    for workload in powerWorkloads.map(\.0) + readWorkloads where selected(workload.name) {
        print("\(workload.name): \(workload.sectorCount) x \(workload.sectorSize) B, alignment \(workload.alignment), "
            + "redundancy \(workload.redundancy), capacity \(workload.capacity)")
        for (index, operation) in workload.operations.enumerated() { print("  \(index): \(operation)") }
    }
    exit(0)
}

if only == nil || only == "power" {
    print("## Power-cut sweep (every program and erase, every interruption state)")
    print("")
    print("| workload | operations | state | cut points | scenarios | second cuts | checks | findings |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    var perState: [PowerLossSweep.CutState: PowerLossSweep.Tally] = [:]
    var totals = PowerLossSweep.Tally()
    var infeasible = 0
    let start = clock_gettime_nsec_np_fallback()
    for (workload, interval) in powerWorkloads where selected(workload.name) {
        var sweep = PowerLossSweep(workload, secondCutInterval: interval)
        if workload.sectorSize > 65534 { sweep.programStride = 32 }  // SweepPlan.largeSectorGeometries
        if let onlyCut { sweep.onlyCutPoints = onlyCut..<(onlyCut + 1) }
        let result = sweep.run()
        if let refusal = result.refusedByAPI {
            refused.append("\(workload.name): refused by the API (\(refusal))")
            print("| \(workload.name) | \(workload.operations.count) | refused by the API: \(refusal) | | | | | |")
            continue
        }
        var rowViolations = 0
        for state in PowerLossSweep.CutState.all {
            guard let tally = result.perState[state] else { continue }
            print("| \(workload.name) | \(result.operations) | \(state) | \(tally.cutPoints) | \(tally.scenarios) | "
                + "\(tally.secondCuts) | \(tally.checks) | \(tally.violations) |")
            var sum = perState[state] ?? PowerLossSweep.Tally()
            sum.cutPoints += tally.cutPoints
            sum.scenarios += tally.scenarios
            sum.secondCuts += tally.secondCuts
            sum.checks += tally.checks
            sum.violations += tally.violations
            perState[state] = sum
            rowViolations += tally.violations
        }
        let dryRun = result.records.count - rowViolations
        if dryRun > 0 {
            print("| \(workload.name) | \(result.operations) | dry run (no fault) | | | | | \(dryRun) |")
        }
        totals.cutPoints += result.cutPoints
        totals.scenarios += result.scenarios
        totals.secondCuts += result.secondCuts
        totals.checks += result.checks
        totals.violations += result.records.count
        infeasible += result.infeasibleWrites
        all += result.records
    }
    for state in PowerLossSweep.CutState.all {
        guard let tally = perState[state] else { continue }
        print("| **all workloads** | | \(state) | \(tally.cutPoints) | \(tally.scenarios) | \(tally.secondCuts) | "
            + "\(tally.checks) | \(tally.violations) |")
    }
    print("| **power-cut total** | | | \(totals.cutPoints) | \(totals.scenarios) | \(totals.secondCuts) | "
        + "\(totals.checks) | \(totals.violations) |")
    print("")
    print("Recoveries whose writes a store never cut fails as well (the load, not the cut; not violations): \(infeasible)")
    print("")
    print("power-cut sweep: \(seconds(since: start))")
    print("")
    totalChecks += totals.checks
}

// MARK: Read faults

if only == nil || only == "reads" {
    print("## Read-fault sweep (every read call of every operation fails once, and 3 times in a row; buffer scrambled)")
    print("")
    print("| workload | operations | read calls | scenarios | checks | findings |")
    print("|---|---:|---:|---:|---:|---:|")
    let start = clock_gettime_nsec_np_fallback()
    var scenarios = 0, checks = 0, violations = 0, reads = 0
    let workloads = quick ? SweepPlan.readFaultWorkloads(rotations: 1, maxOperations: 16)
        : SweepPlan.readFaultWorkloads()
    for workload in workloads where selected(workload.name) {
        let result = ReadFaultSweep(workload).run()
        if let refusal = result.refusedByAPI {
            refused.append("\(workload.name): refused by the API (\(refusal))")
            continue
        }
        print("| \(workload.name) | \(result.operations) | \(result.readCalls) | \(result.scenarios) | \(result.checks) | "
            + "\(result.records.count) |")
        scenarios += result.scenarios
        checks += result.checks
        violations += result.records.count
        reads += result.readCalls
        all += result.records
    }
    print("| **read-fault total** | | \(reads) | \(scenarios) | \(checks) | \(violations) |")
    print("")
    print("read-fault sweep: \(seconds(since: start))")
    print("")
    totalChecks += checks
}

// MARK: Random faults

if only == nil || only == "random" {
    print("## Random fault workload (reads, writes and erases fail 1 in 50 calls; model check after every operation)")
    print("")
    print("| run | operations | faults fired | failed operations | checks | findings |")
    print("|---|---:|---:|---:|---:|---:|")
    let start = clock_gettime_nsec_np_fallback()
    var operations = 0, faults = 0, checks = 0, violations = 0
    let runs = quick ? SweepPlan.randomRuns(seeds: 1, operations: 300) : SweepPlan.randomRuns(seeds: 8, operations: 5000)
    for run in runs where selected(run.name) {
        let result = run.run()
        if let refusal = result.refusedByAPI {
            refused.append("\(run.name): refused by the API (\(refusal))")
            continue
        }
        print("| \(result.name) | \(result.operations) | \(result.faultsFired) | \(result.failedOperations) | "
            + "\(result.checks) | \(result.records.count) |")
        operations += result.operations
        faults += result.faultsFired
        checks += result.checks
        violations += result.records.count
        all += result.records
    }
    print("| **random-fault total** | \(operations) | \(faults) | | \(checks) | \(violations) |")
    print("")
    print("random fault workload: \(seconds(since: start))")
    print("")
    totalChecks += checks
}

// MARK: Sector damage

if only == nil || only == "damage" {
    print("## Sector damage (redundancy >= 2: every written sector of a workload's final image overwritten in turn)")
    print("")
    print("| workload | scenarios | checks | findings |")
    print("|---|---:|---:|---:|")
    let start = clock_gettime_nsec_np_fallback()
    var scenarios = 0, checks = 0, violations = 0
    let workloads = quick ? SweepPlan.damageWorkloads(rotations: 1, maxOperations: 30) : SweepPlan.damageWorkloads()
    for workload in workloads where selected(workload.name) {
        let result = SectorDamageSweep(workload).run()
        print("| \(workload.name) | \(result.scenarios) | \(result.checks) | \(result.records.count) |")
        scenarios += result.scenarios
        checks += result.checks
        violations += result.records.count
        all += result.records
    }
    print("| **sector-damage total** | \(scenarios) | \(checks) | \(violations) |")
    print("")
    print("sector damage: \(seconds(since: start))")
    print("")
    totalChecks += checks
}

// MARK: Batches

var batchViolations: [String] = []
if only == nil || only == "batches" {
    print("## Batch power-cut sweep (issue 22: every program and erase of a batch, every interruption state; second cuts during the rollback)")
    print("")
    print("| geometry | batches | swept | refused (no room) | cut points | scenarios | second cuts | committed | rolled back | checks | findings |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    let start = clock_gettime_nsec_np_fallback()
    var total = BatchSweep.Result()
    var batches = 0
    for geometry in BatchSweep.geometries {
        var row = BatchSweep.Result()
        var count = 0
        for workload in BatchSweep.workloads(perGeometry: quick ? 3 : 12)
        where workload.geometry.description == geometry.description && selected(workload.name) {
            let result = BatchSweep(workload, secondCutInterval: quick ? 5 : batchDeep ? 1 : 2,
                                    allSecondCutStates: batchDeep, thirdCuts: batchDeep).run()
            count += 1
            row.cutPoints += result.cutPoints; row.scenarios += result.scenarios
            row.secondCuts += result.secondCuts; row.checks += result.checks
            row.committed += result.committed; row.rolledBack += result.rolledBack
            row.refused += result.refused; row.violations += result.violations
        }
        print("| \(geometry) | \(count) | \(count - row.refused) | \(row.refused) | \(row.cutPoints) | \(row.scenarios) | "
            + "\(row.secondCuts) | \(row.committed) | \(row.rolledBack) | \(row.checks) | \(row.violations.count) |")
        batches += count
        total.cutPoints += row.cutPoints; total.scenarios += row.scenarios; total.secondCuts += row.secondCuts
        total.checks += row.checks; total.committed += row.committed; total.rolledBack += row.rolledBack
        total.refused += row.refused; total.violations += row.violations
    }
    print("| **batch total** | \(batches) | \(batches - total.refused) | \(total.refused) | \(total.cutPoints) | "
        + "\(total.scenarios) | \(total.secondCuts) | \(total.committed) | \(total.rolledBack) | \(total.checks) | "
        + "\(total.violations.count) |")
    print("")
    for line in total.violations.prefix(examples) { print("- \(line)") }
    print("batch sweep: \(seconds(since: start))")
    print("")
    totalChecks += total.checks
    batchViolations = total.violations
}

// MARK: Summary

if !refused.isEmpty {
    print("## Geometries refused by the API (skipped)")
    for line in refused { print("- \(line)") }
    print("")
}
print("## Total: \(totalChecks) checks, \(all.count + batchViolations.count) violations (\(seconds(since: started)))")
if !all.isEmpty {
    var kinds: [String] = []
    var byKind: [String: [SweepViolation]] = [:]
    for violation in all {
        if byKind[violation.kind] == nil { kinds.append(violation.kind) }
        byKind[violation.kind, default: []].append(violation)
    }
    print("")
    print("| violations | CRC-16 | checksum none | kind |")
    print("|---:|---:|---:|---|")
    for kind in kinds.sorted(by: { byKind[$0]!.count > byKind[$1]!.count }) {
        let none = byKind[kind]!.filter { $0.workload.contains("-none") }.count
        print("| \(byKind[kind]!.count) | \(byKind[kind]!.count - none) | \(none) | \(kind) |")
    }
    print("")
    print("First violations of each kind (workload | scenario | kind: detail):")
    for kind in kinds {
        // CRC-16 examples first: checksum none has its own class of defects.
        let list = byKind[kind]!.filter { !$0.workload.contains("-none") } + byKind[kind]!.filter { $0.workload.contains("-none") }
        for violation in list.prefix(examples) { print("- \(violation)") }
    }
}
exit(all.isEmpty && batchViolations.isEmpty ? 0 : 1)
