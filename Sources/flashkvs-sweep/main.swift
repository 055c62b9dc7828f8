// Runs the full power-loss sweep over the standard workloads and prints a
// table; exits 1 if any invariant was violated.
//
//     swift run -c release flashkvs-sweep [WORKLOAD...]
import FlashKVS
import FlashKVSStress
#if canImport(Glibc)
import Glibc
#endif

let names = Set(CommandLine.arguments.dropFirst())
let workloads = SweepWorkload.standard.filter { names.isEmpty || names.contains($0.name) }
if workloads.isEmpty {
    print("unknown workload; known: \(SweepWorkload.standard.map(\.name).joined(separator: ", "))")
    exit(2)
}

func column(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

print("| workload | operations | cut points | interruption states | scenarios | second cuts | invariant checks | violations |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
var total = PowerLossSweep.Result(workload: "total")
var failures: [String] = []
for workload in workloads {
    let result = PowerLossSweep(workload).run()
    print("| \(workload.name) | \(workload.operations.count) | \(result.cutPoints) | \(Interruption.allCases.count) | "
        + "\(result.scenarios) | \(result.secondCuts) | \(result.checks) | \(result.violations.count) |")
    total.cutPoints += result.cutPoints
    total.scenarios += result.scenarios
    total.secondCuts += result.secondCuts
    total.checks += result.checks
    failures += result.violations.prefix(5).map { "\(workload.name): \($0)" }
    total.violations += result.violations
}
print("| **total** | | \(total.cutPoints) | \(Interruption.allCases.count) | \(total.scenarios) | \(total.secondCuts) | "
    + "\(total.checks) | \(total.violations.count) |")
for failure in failures { print(failure) }
exit(total.violations.isEmpty ? 0 : 1)
