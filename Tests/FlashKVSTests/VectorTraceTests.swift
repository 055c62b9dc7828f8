import Foundation
import Testing
import FlashKVS

/// The golden traces recorded from the reference pw_kvs (spec 6.6): every
/// step's status, result, size, transaction count, state, statistics and
/// iteration, and the final flash bytes, must match.
@Suite("Golden traces")
struct VectorTraceTests {
    @Test("trace replays exactly", .enabled(if: SharedData.isAvailable, SharedData.skipReason),
          arguments: SharedData.vectorNames(kind: "trace"))
    func replay(name: String) throws {
        var replayer = try TraceReplayer(trace: try #require(SharedData.vector(named: name)))
        replayer.run()
        #expect(replayer.differences.isEmpty, "\(replayer.differences.prefix(8).joined(separator: "\n"))")
    }
}
