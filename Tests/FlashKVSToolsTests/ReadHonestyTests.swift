import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

/// Issue 20, points 2 and 3: read-only commands never give an incomplete
/// answer with status 0, and a corrupt value is data loss, not a missing key.
@Suite("Read-only commands tell what they cannot show")
struct ReadHonestyTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    static let readers: [[String]] = [["list", "IMG"], ["get", "IMG", "k1"], ["export", "IMG"], ["stats", "IMG"]]

    /// Each way an image can hold data these options cannot show, as extra options.
    static let mismatches: [String: [String]] = [
        "another sector size": ["--sector-size", "1024"],
        "another magic": ["--sector-size", "512", "--magic", "0x12345678"],
        "another checksum": ["--sector-size", "512", "--checksum", "none"],
        "keys beyond --max-entries": ["--sector-size", "512", "--max-entries", "2"],
    ]

    @Test("list, get, export and stats exit 10 when the image holds data they cannot show",
          arguments: mismatches.keys.sorted())
    func dataTheOptionsCannotShowIsStatus10(_ mismatch: String) throws {
        try CLIFixtures.makeImage(image, items: [("k1", Array("v1".utf8)), ("k2", [2]), ("k3", [3])])
        let options = try #require(Self.mismatches[mismatch])
        for reader in Self.readers {
            let result = try run(reader + options)
            if mismatch == "keys beyond --max-entries" && reader[0] == "get" {
                // k1 is among the keys loaded: its answer is complete.
                CLIFixtures.expectFailure(result, .incomplete, containing: "keys_not_loaded")
                continue
            }
            CLIFixtures.expectFailure(result, .incomplete, containing: "cannot show")
            #expect(result.standardError.contains("--partial"), "\(reader) \(mismatch)")
        }
    }

    @Test func partialAcceptsWhatCanBeShownWithAWarning() throws {
        try CLIFixtures.makeImage(image, items: [("k1", Array("v1".utf8)), ("k2", [2]), ("k3", [3])])
        let result = try run(["list", "IMG", "--sector-size", "512", "--max-entries", "2", "--partial"])
        #expect(result.status == 0)
        #expect(result.output == "k1  \"v1\"\nk2  hex:02\n")
        #expect(result.standardError.hasPrefix("flashkvs: warning: ") && result.standardError.contains("keys_not_loaded"))
        let hidden = try run(["list", "IMG", "--sector-size", "1024", "--partial"])
        #expect(hidden.status == 0 && hidden.output.isEmpty && hidden.standardError.contains("hidden_data"))
    }

    @Test func aCleanImageReadsWithStatus0() throws {
        try CLIFixtures.makeImage(image, items: [("k1", Array("v1".utf8))])
        for reader in Self.readers { CLIFixtures.expectSuccess(try run(reader + ["--sector-size", "512"])) }
    }

    /// An image whose key 'blob' has one entry, with one value byte flipped.
    func imageWithACorruptValue() throws {
        try CLIFixtures.makeImage(image, items: [("k1", Array("v1".utf8)), ("blob", Array("0123456789".utf8))])
        try CLIFixtures.flipByte(image, at: 512 + 32 + 16 + 4 + 3)  // 'blob' starts at 32: header, key, then value
    }

    @Test func getOfAKeyWhoseValueIsCorruptIsDataLossNamingTheKey() throws {
        try imageWithACorruptValue()
        let verify = try run(["verify", "IMG", "--sector-size", "512"])
        #expect(verify.output.contains("key 'blob'"))
        let get = try run(["get", "IMG", "blob", "--sector-size", "512"])
        CLIFixtures.expectFailure(get, .dataLoss, containing: "the newest value of 'blob'")
        #expect(get.standardError.contains("no older value is kept") && !get.standardError.contains("not found"))
        // The other key reads as usual; a key that never existed is still not found.
        #expect(try run(["get", "IMG", "k1", "--sector-size", "512"]).output == "v1")
        CLIFixtures.expectFailure(try run(["get", "IMG", "nope", "--sector-size", "512"]), .notFound)
        // --partial gives the store's answer (no value) after the warning.
        let partial = try run(["get", "IMG", "blob", "--sector-size", "512", "--partial"])
        #expect(partial.status == ToolExitStatus.notFound.rawValue)
        #expect(partial.standardError.contains("warning: get 'blob': data loss"))
    }

    @Test func listAndExportNameTheKeysWhoseValuesAreCorrupt() throws {
        try imageWithACorruptValue()
        CLIFixtures.expectFailure(try run(["list", "IMG", "--sector-size", "512"]), .dataLoss,
                                  containing: "the newest value of 'blob' is corrupt")
        CLIFixtures.expectFailure(try run(["export", "IMG", "--sector-size", "512"]), .dataLoss, containing: "'blob'")
        let partial = try run(["list", "IMG", "--sector-size", "512", "--partial"])
        #expect(partial.status == 0 && partial.output == "k1  \"v1\"\n")
        // stats shows the corruption itself: it is complete.
        let stats = try run(["stats", "IMG", "--sector-size", "512"])
        #expect(stats.status == 0 && stats.output.contains("needs maintenance: 1 corrupt entry"))
    }

    @Test func aCorruptNewerValueIsDataLossEvenWhenAnOlderOneIsKept() throws {
        try CLIFixtures.makeImage(image, items: [("k", Array("old".utf8)), ("k", Array("new".utf8))])
        try CLIFixtures.flipByte(image, at: 512 + 32 + 16 + 1 + 1)  // the second entry's value
        let get = try run(["get", "IMG", "k", "--sector-size", "512"])
        CLIFixtures.expectFailure(get, .dataLoss, containing: "an older value is kept")
        #expect(get.output.isEmpty)
        #expect(try run(["get", "IMG", "k", "--sector-size", "512", "--partial"]).output == "old")
    }

    @Test func repairNamesTheKeysItLost() throws {
        try imageWithACorruptValue()
        let result = try run(["repair", "IMG", "--sector-size", "512"])
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("unreadable entries (their data was already lost): 1; their keys as stored: 'blob'"))
        #expect(result.output.contains("keys: 2 -> 1; lost: 'blob' (its entry was corrupt); changed: none"))
    }

    @Test func repairNamesAKeyThatFellBackToAnOlderValue() throws {
        try CLIFixtures.makeImage(image, items: [("k", Array("old".utf8)), ("k", Array("new".utf8))])
        try CLIFixtures.flipByte(image, at: 512 + 32 + 16 + 1 + 1)
        let result = try run(["repair", "IMG", "--sector-size", "512"])
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("keys: 1 -> 1; lost: 'k' (its newest value was corrupt; an older one is kept)"))
    }
}
