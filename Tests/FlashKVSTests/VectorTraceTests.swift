import Foundation
import Testing
import FlashKVS

/// The golden traces recorded from the reference pw_kvs (spec 6.6): every
/// step's status, result, size, transaction count, state, statistics and
/// iteration, and the final flash bytes, must match — except where
/// FlashKVS deliberately fixes a defect of the reference.
@Suite("Golden traces")
struct VectorTraceTests {
    /// Traces where FlashKVS deliberately differs, why, and the first step
    /// at which it may differ (every earlier step must still match). Each
    /// fix has its own test of the intended behaviour in RecoveryTests.
    static let deliberateDifferences: [String: (firstStep: Int, reason: String)] = [
        "fixture_manual_disabled_erased_gap": (0, """
            B3: an erased-looking gap in a sector does not hide the entry after it; \
            pw_kvs stops reading the sector there and loses k2
            """),
        "fixture_lazy_disabled_erased_gap": (0, "B3: as above; lazy recovery then relocates both keys"),
        "fault_redundant_value_corrupt_first_copy": (2, """
            B2: a get whose first copy has a corrupt value returns the intact second copy \
            (pw_kvs: DATA_LOSS) and marks the bad copy for repair
            """),
        "fault_redundant_two_sectors_corrupt": (5, """
            B2: iteration skips copies whose key does not match its hash and reads the good \
            copy (pw_kvs returns the corrupted key and DATA_LOSS)
            """),
        "trace_maintenance": (9, """
            B7: PartialMaintenance with nothing reclaimable moves no live data and erases \
            nothing (NOT_FOUND); pw_kvs relocates a full sector and erases it
            """),
        "trace_partial_maintenance": (6, "B7: as above"),
        "fault_write_error_manual": (2, """
            A program that reports an error is retried once in another sector with a new transaction \
            id: the put succeeds (pw_kvs returns the error, although the flash, like RAMFlash, may have \
            programmed the entry: its RAM tables then disagree with what a restart reads)
            """),
        "fault_write_error_lazy": (2, "as above"),
        "fault_redundant_single_write_error": (2, "as above, for a second copy"),
        "fault_init_read_error_manual": (2, """
            A read that fails twice during init is reported as the flash's error and nothing is \
            repaired (pw_kvs takes the unreadable entry for corruption and, lazily, erases its sector)
            """),
        "fault_init_read_error_lazy": (2, "as above: pw_kvs loses k2"),
        "fault_redundant_single_read_errors": (3, """
            A failed read is tried once more and never marks a sector corrupt (pw_kvs marks it)
            """),
        "fault_redundant_lose_both_copies": (3, """
            A key none of whose copies can be read reads as DATA_LOSS, not NOT_FOUND: corrupt is not missing
            """),
        "fault_redundant_lazy_write_after_data_loss": (5, "as above"),
    ]

    @Test("trace replays exactly", .enabled(if: SharedData.isAvailable, SharedData.skipReason),
          arguments: SharedData.vectorNames(kind: "trace"))
    func replay(name: String) throws {
        var replayer = try TraceReplayer(trace: try #require(SharedData.vector(named: name)))
        replayer.run()
        if let deliberate = Self.deliberateDifferences[name] {
            // The fix must show (else the list is stale), and not earlier than documented.
            let first = try #require(replayer.firstDifferingStep, "expected to differ: \(deliberate.reason)")
            #expect(first >= deliberate.firstStep, "\(replayer.differences.prefix(4).joined(separator: "\n"))")
        } else {
            #expect(replayer.differences.isEmpty, "\(replayer.differences.prefix(8).joined(separator: "\n"))")
        }
    }
}
