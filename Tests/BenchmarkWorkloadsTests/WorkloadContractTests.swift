// The op generator against the published values of shared/bench/WORKLOADS.md
// (section 1: SplitMix64; section 2: keys; section 7: the expected outcome of
// the reference runs), so the benchmark contract cannot drift. Nothing here
// runs a store or measures time.
import BenchmarkWorkloads
import Testing

@Suite("SplitMix64 (WORKLOADS.md section 1)")
struct SplitMix64Tests {
    @Test("seed 1 produces the three published first outputs")
    func firstOutputs() {
        var random = SplitMix64(seed: 1)
        #expect(random.next() == 0x910a_2dec_8902_5cc1)
        #expect(random.next() == 0xbeeb_8da1_658e_ec67)
        #expect(random.next() == 0xf893_a2ee_fb32_555e)
    }

    @Test("bytes(V) emits words little-endian and discards the unused high bytes of the last word")
    func bytesAreLittleEndianAndTruncated() {
        var random = SplitMix64(seed: 1)
        // ceil(9 / 8) = 2 words: all of the first, the low byte of the second.
        #expect(random.bytes(9) == [0xc1, 0x5c, 0x02, 0x89, 0xec, 0x2d, 0x0a, 0x91, 0x67])
        // The rest of the second word is discarded: the next draw is the third output.
        #expect(random.next() == 0xf893_a2ee_fb32_555e)
    }

    @Test("bytes(0) draws nothing")
    func zeroBytesDrawNothing() {
        var random = SplitMix64(seed: 1)
        #expect(random.bytes(0).isEmpty)
        #expect(random.next() == 0x910a_2dec_8902_5cc1)
    }

    @Test("uniform(n) is the next output modulo n")
    func uniformIsPlainModulo() {
        var random = SplitMix64(seed: 1)
        #expect(random.uniform(100) == Int(UInt64(0x910a_2dec_8902_5cc1) % 100))
        #expect(random.uniform(37) == Int(UInt64(0xbeeb_8da1_658e_ec67) % 37))
    }
}

@Suite("Keys (WORKLOADS.md section 2)")
struct BenchmarkKeyTests {
    @Test("key i is \"key%05d\" % i without a terminator", arguments: [
        (0, "key00000"), (42, "key00042"), (99_999, "key99999"),
    ])
    func keyText(index: Int, text: String) {
        #expect(BenchmarkKeys.name(index) == Array(text.utf8))
    }

    @Test("a plan lays the keys out 8 bytes apart, in order")
    func planKeyLayout() {
        let plan = WorkloadPlan(workload: .fill, operationCount: 0, keyCount: 123, valueSize: 4, seed: 1)
        #expect(plan.keyBytes.count == 123 * 8)
        #expect(Array(plan.key(7)) == Array("key00007".utf8))
        #expect(Array(plan.key(122)) == Array("key00122".utf8))
    }
}

/// One row of the WORKLOADS.md section 7 table (the columns that the op
/// sequence and the store semantics determine).
struct PublishedRun: Sendable, CustomTestStringConvertible {
    var workload: Workload
    var operationCount: Int
    var ops: Int
    var getOK: Int
    var getNotFound: Int
    var deleteOK: Int
    var deleteNotFound: Int
    var getDigest: UInt64
    var finalSize: Int
    var finalDigest: UInt64
    var transactionCount: Int

    var testDescription: String { workload.rawValue }

    /// Section 7: K=100, V=32, seed 1; N=100000 (update, read, mixed), 1000 (init); fill ignores N.
    static let table: [PublishedRun] = [
        PublishedRun(workload: .fill, operationCount: 100_000, ops: 100, getOK: 0, getNotFound: 0, deleteOK: 0,
                     deleteNotFound: 0, getDigest: 0xcbf2_9ce4_8422_2325, finalSize: 100,
                     finalDigest: 0x19c8_e969_3ef9_c8e2, transactionCount: 100),
        PublishedRun(workload: .update, operationCount: 100_000, ops: 100_000, getOK: 0, getNotFound: 0,
                     deleteOK: 0, deleteNotFound: 0, getDigest: 0xcbf2_9ce4_8422_2325, finalSize: 100,
                     finalDigest: 0x4f23_b5ce_ad18_0235, transactionCount: 100_100),
        PublishedRun(workload: .read, operationCount: 100_000, ops: 100_000, getOK: 100_000, getNotFound: 0,
                     deleteOK: 0, deleteNotFound: 0, getDigest: 0x7b4a_f735_0a77_ef8c, finalSize: 100,
                     finalDigest: 0x19c8_e969_3ef9_c8e2, transactionCount: 100),
        PublishedRun(workload: .mixed, operationCount: 100_000, ops: 100_000, getOK: 58_462, getNotFound: 11_560,
                     deleteOK: 4_185, deleteNotFound: 762, getDigest: 0xe626_7df3_8a11_d60a, finalSize: 80,
                     finalDigest: 0x5127_3a8d_6b2d_003a, transactionCount: 29_316),
        PublishedRun(workload: .initialize, operationCount: 1_000, ops: 1_000, getOK: 0, getNotFound: 0,
                     deleteOK: 0, deleteNotFound: 0, getDigest: 0xcbf2_9ce4_8422_2325, finalSize: 100,
                     finalDigest: 0x19c8_e969_3ef9_c8e2, transactionCount: 100),
    ]
}

@Suite("Reference runs (WORKLOADS.md section 7)")
struct ReferenceRunTests {
    @Test("the op sequence replayed on a Dictionary gives the published counts, digests and transaction count",
          arguments: PublishedRun.table)
    func publishedOutcome(_ row: PublishedRun) {
        let plan = WorkloadPlan(workload: row.workload, operationCount: row.operationCount, keyCount: 100,
                                valueSize: 32, seed: 1)
        let outcome = plan.replayOnDictionary()
        #expect(plan.timedOperationCount == row.ops)
        #expect(outcome.getOK == row.getOK)
        #expect(outcome.getNotFound == row.getNotFound)
        #expect(outcome.deleteOK == row.deleteOK)
        #expect(outcome.deleteNotFound == row.deleteNotFound)
        #expect(FNV1a64.hex(outcome.getDigest) == FNV1a64.hex(row.getDigest))
        #expect(outcome.finalSize == row.finalSize)
        #expect(FNV1a64.hex(outcome.finalDigest(keyCount: 100)) == FNV1a64.hex(row.finalDigest))
        #expect(outcome.transactionCount == row.transactionCount)
    }

    @Test("only update, read and mixed draw an op sequence; its kinds match the workload",
          arguments: Workload.allCases)
    func operationKinds(_ workload: Workload) {
        let plan = WorkloadPlan(workload: workload, operationCount: 1_000, keyCount: 100, valueSize: 32, seed: 1)
        let kinds = Set(plan.operations.map(\.kind))
        switch workload {
        case .fill, .initialize: #expect(plan.operations.isEmpty)
        case .update: #expect(kinds == [.put])
        case .read: #expect(kinds == [.get])
        case .mixed: #expect(kinds == [.get, .put, .delete])
        }
        if workload.drawsOperations { #expect(plan.operations.count == 1_000) }
    }

    @Test("a put of the value already stored takes no transaction id (V=0 makes every update identical)")
    func identicalPutTakesNoTransaction() {
        let plan = WorkloadPlan(workload: .update, operationCount: 5_000, keyCount: 50, valueSize: 0, seed: 7)
        #expect(plan.replayOnDictionary().transactionCount == 50)
    }
}
