// flashkvs-bench: the benchmark command of shared/bench/WORKLOADS.md.
//
// Runs one workload (fill, update, read, mixed, init) of the contract on
// the real KeyValueStore over a counting RAMFlash, `--repeat` times, and
// prints one JSON object (section 6) with the timing, the flash counters,
// the outcome counts and digests, the heap allocations of the timed phase,
// and whether the run verified against the dictionary model.
import BenchmarkWorkloads
import FlashKVS

#if canImport(Glibc)
import Glibc
#endif

let configuration: BenchConfiguration
do {
    configuration = try BenchConfiguration(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    guard let message = error.message else {
        print(BenchConfiguration.usage)
        exit(0)
    }
    var standardError = StandardError()
    print("flashkvs-bench: \(message)\n\(BenchConfiguration.usage)", to: &standardError)
    exit(2)
}

let plan = WorkloadPlan(workload: configuration.workload, operationCount: configuration.operationCount,
                        keyCount: configuration.keyCount, valueSize: configuration.valueSize,
                        seed: configuration.seed)
let model = plan.replayOnDictionary()
let runner = WorkloadRunner(configuration: configuration, plan: plan, model: model)
var runs: [RunResult] = []
for _ in 0..<configuration.repeatCount { runs.append(runner.run()) }

let last = runs[runs.count - 1]
let walls = runs.map(\.wallSeconds)
let sortedWalls = walls.sorted()
let medianWall = sortedWalls.count % 2 == 1
    ? sortedWalls[sortedWalls.count / 2]
    : (sortedWalls[sortedWalls.count / 2 - 1] + sortedWalls[sortedWalls.count / 2]) / 2
let timedOps = plan.timedOperationCount
let verifyErrors = runs.flatMap(\.verifyErrors)
let verified = verifyErrors.isEmpty

/// The flash counters of one phase (section 6).
func flashJSON(_ usage: FlashUsage) -> JSONValue {
    .object([
        "read_calls": .integer(usage.counters.readCalls),
        "bytes_read": .integer(usage.counters.bytesRead),
        "write_calls": .integer(usage.counters.writeCalls),
        "bytes_written": .integer(usage.counters.bytesWritten),
        "erase_calls": .integer(usage.counters.eraseCalls),
        "sectors_erased": .integer(usage.counters.sectorsErased),
        "sector_erases_min": .integer(usage.eraseMin),
        "sector_erases_median": .number(usage.eraseMedian),
        "sector_erases_max": .integer(usage.eraseMax),
    ])
}

/// Heap allocations of the last run (and the timed phase of the first:
/// the first use of a code path in a process can allocate once, e.g. the
/// Swift runtime instantiating generic metadata); null when not counted.
func heapJSON(_ heap: HeapUsage, firstRun: HeapUsage, counted: Bool) -> JSONValue {
    func count(_ value: Int) -> JSONValue { counted ? .integer(value) : .null }
    return .object([
        "counted": .string(counted ? "malloc interposition" : "unavailable (build with Scripts/bench-build.sh)"),
        "timed_malloc_calls": count(heap.timed.calls),
        "timed_bytes_allocated": count(heap.timed.bytes),
        "first_run_timed_malloc_calls": count(firstRun.timed.calls),
        "store_construction_malloc_calls": count(heap.storeConstruction.calls),
        "store_construction_bytes": count(heap.storeConstruction.bytes),
        "initialize_malloc_calls": count(heap.initialize.calls),
    ])
}

let heapCounted = HeapCounter.isActive
let output = JSONValue.object([
    "implementation": .string("FlashKVS (Swift)"),
    "workload": .string(configuration.workload.rawValue),
    "ops": .integer(timedOps),
    "keys": .integer(configuration.keyCount),
    "value_size": .integer(configuration.valueSize),
    "seed": .string(String(configuration.seed)),
    "repeat": .integer(configuration.repeatCount),
    "geometry": .object([
        "sector_size": .integer(configuration.sectorSize),
        "sectors": .integer(configuration.sectorCount),
        "alignment": .integer(configuration.alignment),
    ]),
    "store": .object([
        "magic": .string("0x" + String(configuration.magic, radix: 16)),
        "checksum": .string(configuration.checksum.rawValue),
        "redundancy": .integer(configuration.redundancy),
        "max_entries": .integer(configuration.maxEntries),
    ]),
    "wall_s": .number(medianWall),
    "wall_s_min": .number(sortedWalls[0]),
    "wall_s_all": .array(walls.map { .number($0) }),
    "ops_per_s": .number(medianWall > 0 ? Double(timedOps) / medianWall : 0),
    "us_per_op": .number(timedOps > 0 ? medianWall * 1e6 / Double(timedOps) : 0),
    "flash": flashJSON(last.timedFlash),
    "setup_flash": flashJSON(last.setupFlash),
    "results": .object([
        "put_fail": .integer(last.results.putFailures),
        "get_ok": .integer(last.results.getOK),
        "get_not_found": .integer(last.results.getNotFound),
        "get_other": .integer(last.results.getOther),
        "delete_ok": .integer(last.results.deleteOK),
        "delete_not_found": .integer(last.results.deleteNotFound),
        "delete_other": .integer(last.results.deleteOther),
        "init_fail": .integer(last.results.initFailures),
        "setup_fail": .integer(last.results.setupFailures),
        "get_digest_fnv1a64": .string(FNV1a64.hex(last.results.getDigest)),
    ]),
    "final": .object([
        "size": .integer(last.final.size),
        "transaction_count": .integer(last.final.transactionCount),
        "writable_bytes": .integer(last.final.stats.writableBytes),
        "in_use_bytes": .integer(last.final.stats.inUseBytes),
        "reclaimable_bytes": .integer(last.final.stats.reclaimableBytes),
        "kvs_sector_erase_count": .integer(last.final.kvsSectorEraseCount),
        "final_digest_fnv1a64": .string(FNV1a64.hex(last.final.digest)),
    ]),
    "heap": heapJSON(last.heap, firstRun: runs[0].heap, counted: heapCounted),
    "verify": .string(verified ? "ok" : "FAILED"),
    "verify_errors": .array(verifyErrors.map { .string($0) }),
])
print(output.text())
exit(verified ? 0 : 1)

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}
