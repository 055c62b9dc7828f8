import Foundation
import Testing
import FlashKVSStress

/// Replays the inputs the image fuzzer (Scripts/fuzz.sh) found interesting:
/// each must run through initialize, iteration, reads, writes and
/// maintenance without a trap or an endless loop.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzCorpus")

    static let files: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }()

    @Test("the kept corpus is there")
    func corpusIsKept() {
        #expect(Self.files.count >= 300)
    }

    @Test("every corpus input runs without a trap")
    func replayCorpus() throws {
        var succeeded = 0
        for file in Self.files {
            let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
            succeeded += ImageFuzzing.exercise([UInt8](data))
        }
        // Some inputs are valid stores on which operations succeed.
        #expect(succeeded > Self.files.count)
    }

    @Test("seed images written by the store work fully")
    func seedsWork() {
        for seed in ImageFuzzing.seedInputs() {
            #expect(ImageFuzzing.exercise(seed) >= 10)
        }
    }
}
