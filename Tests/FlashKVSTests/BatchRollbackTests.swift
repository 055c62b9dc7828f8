import FlashKVS
import FlashKVSStress
import Testing

/// The rollback of a torn batch when the cut left no room for it: it must
/// finish (after the repair made room) before the store reports ready.
@Suite("Batch rollback without room")
struct BatchRollbackTests {
    /// The sweep's finding (4x512 r1, crowded, "#2 gc"): a cut tears the
    /// batch's member; a second cut, while the rollback collects the
    /// corrupt sector, leaves two corrupt sectors and no erased one. The
    /// rollback could then neither collect them nor write its resolution
    /// record and gave up; the repair after it made room, and the store
    /// reported ready with the intent still the newest version of the
    /// reserved key (listed by `items`, unreadable), in other cases with
    /// members not yet rolled back. The class: every operation of the
    /// rollback cut in every interruption state, on the crowded batches
    /// (1,598 findings before the fix in `flashkvs-sweep --batch-deep`).
    @Test("every rollback operation cut in every state, crowded batches",
          arguments: BatchSweep.workloads(perGeometry: 6).filter { $0.name.hasSuffix(" gc") })
    func everyRollbackCut(_ workload: BatchSweep.Workload) {
        let result = BatchSweep(workload, secondCutInterval: 1, allSecondCutStates: true).run()
        #expect(result.violations.isEmpty, "\(result.violations.prefix(3))")
        #expect(result.secondCuts > 0)
    }
}
