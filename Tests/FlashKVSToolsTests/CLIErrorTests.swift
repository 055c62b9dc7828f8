import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

@Suite("flashkvs failures: one clear line and a documented status")
struct CLIErrorTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    @Test func anUnknownCommandIsABadArgument() throws {
        CLIFixtures.expectFailure(try run("frobnicate", "IMG"), .badArgument, containing: "frobnicate")
    }

    @Test func anUnknownOptionIsABadArgument() throws {
        CLIFixtures.expectFailure(try run("list", "IMG", "--bogus"), .badArgument, containing: "--bogus")
    }

    @Test func aMissingImageIsAnIOError() throws {
        CLIFixtures.expectFailure(try run("get", "IMG", "k"), .ioError, containing: "No such file")
        CLIFixtures.expectFailure(try run("put", "IMG", "k", "v"), .ioError, containing: "--sectors")
        #expect(!FileManager.default.fileExists(atPath: image))
    }

    @Test func aSizeThatDoesNotMatchTheGeometryIsAConfigurationMismatch() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512", "--sectors", "5"), .configurationMismatch,
                                  containing: "2048 bytes but --sectors 5")
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "768"), .configurationMismatch,
                                  containing: "not a whole number of 768-byte sectors")
        CLIFixtures.expectFailure(try run("list", "IMG"), .configurationMismatch, containing: "4096")
    }

    @Test func aTruncatedImageIsAConfigurationMismatch() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        let bytes = try directory.read("flash.img")
        try directory.write("flash.img", bytes.prefix(1000))
        for command in ["list", "verify", "dump", "stats", "map"] {
            CLIFixtures.expectFailure(try run(command, "IMG", "--sector-size", "512"), .configurationMismatch)
        }
        #expect(try directory.read("flash.img").count == 1000)
    }

    @Test func anEmptyFileIsAConfigurationMismatchSayingSo() throws {
        try directory.write("flash.img", Data())
        CLIFixtures.expectFailure(try run("list", "IMG"), .configurationMismatch, containing: "is empty")
    }

    @Test func anImageOfOneSectorCannotHoldAStore() throws {
        try directory.write("flash.img", Data(repeating: 0xFF, count: 512))
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512"), .configurationMismatch,
                                  containing: "holds 1 sector of 512 bytes")
    }

    @Test func keysOfZeroOrMoreThan63BytesAreBadArguments() throws {
        try CLIFixtures.makeImage(image, items: [])
        CLIFixtures.expectFailure(try run("put", "IMG", String(repeating: "k", count: 64), "v", "--sector-size", "512"),
                                  .badArgument, containing: "64 bytes")
        CLIFixtures.expectFailure(try run("get", "IMG", "", "--sector-size", "512"), .badArgument, containing: "0 bytes")
        CLIFixtures.expectSuccess(try run("put", "IMG", String(repeating: "k", count: 63), "v", "--sector-size", "512"))
    }

    @Test func badHexIsABadArgument() throws {
        try CLIFixtures.makeImage(image, items: [])
        CLIFixtures.expectFailure(try run("put", "IMG", "k", "--hex", "abc", "--sector-size", "512"), .badArgument,
                                  containing: "odd number")
        CLIFixtures.expectFailure(try run("put", "IMG", "k", "--hex", "zz", "--sector-size", "512"), .badArgument,
                                  containing: "not hex")
    }

    @Test func badOptionValuesAreBadArguments() throws {
        try CLIFixtures.makeImage(image, items: [])
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512", "--alignment", "24"), .badArgument,
                                  containing: "--alignment 24")
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512", "--magic", "0xffffffff"), .badArgument,
                                  containing: "erased")
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512", "--magic", "xyz"), .badArgument,
                                  containing: "xyz")
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512", "--checksum", "md5"), .badArgument,
                                  containing: "md5")
        CLIFixtures.expectFailure(try run("list", "IMG", "--sector-size", "512", "--max-entries", "40000"), .badArgument,
                                  containing: "--max-entries")
    }

    @Test func aValueTooLargeForASectorIsABadArgument() throws {
        try CLIFixtures.makeImage(image, items: [])
        CLIFixtures.expectFailure(try run("put", "IMG", "k", String(repeating: "v", count: 500), "--sector-size", "512"),
                                  .badArgument, containing: "key + value must fit one sector: at most 496 bytes")
    }

    @Test func aMalformedScriptIsBadInputNamingTheLine() throws {
        let script = try directory.write("bad.script", "put a 1\nfrobnicate x\n")
        CLIFixtures.expectFailure(try run("apply", "IMG", script, "--sectors", "4", "--sector-size", "512"), .badInput,
                                  containing: "bad.script:2: unknown command 'frobnicate'")
        // The script is checked before the image is even created.
        #expect(!FileManager.default.fileExists(atPath: image))
        let hex = try directory.write("hex.script", "puthex a 0g\n")
        CLIFixtures.expectFailure(try run("apply", "IMG", hex, "--sectors", "4", "--sector-size", "512"), .badInput,
                                  containing: "hex.script:1: ")
    }

    @Test func checksumsMustMatchTheMagicsAndMagicsMustDiffer() throws {
        CLIFixtures.expectFailure(
            try run("create", "IMG", "--sectors", "4", "--magic", "1", "--magic", "2", "--checksum", "crc16",
                    "--checksum", "none", "--checksum", "crc16"),
            .badArgument, containing: "--checksum is given 3 times for 2 --magic values")
        CLIFixtures.expectFailure(try run("create", "IMG", "--sectors", "4", "--magic", "0x10", "--magic", "16"),
                                  .badArgument, containing: "--magic 0x00000010 is given twice")
        CLIFixtures.expectFailure(try run("create", "IMG", "--sectors", "4", "--magic", "1", "--magic", "0xffffffff"),
                                  .badArgument, containing: "--magic 0xffffffff cannot be used")
        #expect(!FileManager.default.fileExists(atPath: image))
    }

    @Test func aWrongMagicIsAFormatMismatch() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        let before = try SHA256.ofFile(image)
        let verify = try run("verify", "IMG", "--sector-size", "512", "--magic", "0x12345678")
        CLIFixtures.expectFailure(verify, .problemsFound)
        #expect(verify.output.contains("format_mismatch") && verify.output.contains("--magic 0xd253a8a9"))
        CLIFixtures.expectFailure(try run("put", "IMG", "b", "2", "--sector-size", "512", "--magic", "0x12345678"),
                                  .configurationMismatch, containing: "does not parse with --magic 0x12345678")
        CLIFixtures.expectFailure(try run("repair", "IMG", "--sector-size", "512", "--magic", "0x12345678"),
                                  .configurationMismatch, containing: "nothing was changed")
        #expect(try SHA256.ofFile(image) == before)
    }

    @Test func moreKeysThanMaxEntriesIsAConfigurationMismatchUntilDiscarded() throws {
        try CLIFixtures.makeImage(image, items: (0..<5).map { ("key\($0)", [UInt8($0)]) })
        let before = try SHA256.ofFile(image)
        CLIFixtures.expectFailure(try run("put", "IMG", "x", "1", "--sector-size", "512", "--max-entries", "3"),
                                  .configurationMismatch, containing: "--max-entries")
        CLIFixtures.expectFailure(try run("repair", "IMG", "--sector-size", "512", "--max-entries", "3"),
                                  .configurationMismatch, containing: "--discard-unindexed")
        #expect(try SHA256.ofFile(image) == before)
        let discard = try run("repair", "IMG", "--sector-size", "512", "--max-entries", "3", "--discard-unindexed")
        let keys = try #require(try CLIFixtures.json(try run("list", "IMG", "--json", "--sector-size", "512")) as? [[String: String]])
        CLIFixtures.expectSuccess(discard)
        #expect(keys.map { $0["key"] } == ["key0", "key1", "key2"])
    }

    @Test("Random images: read commands never crash and exit with a documented status")
    func randomImagesNeverCrashTheTool() throws {
        var random = SeededGenerator(seed: 0xF00D)
        let documented = Set(ToolExitStatus.allCases.map(\.rawValue))
        for round in 0..<4 {
            var bytes = (0..<2048).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 2 == 1 {
                // Plausible headers among the noise.
                for _ in 0..<12 {
                    let at = Int.random(in: 0..<128, using: &random) * 16
                    bytes.replaceSubrange(at..<(at + 4), with: [0xa9, 0xa8, 0x53, 0xd2])
                }
            }
            try directory.write("flash.img", Data(bytes))
            for command in [["list"], ["get", "IMG", "k"], ["dump", "IMG", "--json"], ["verify"], ["stats", "IMG", "--json"],
                            ["map"], ["export"]] {
                let arguments = command.count == 1 ? [command[0], "IMG"] : command
                let result = try ToolRunner.run(arguments + ["--sector-size", "512"], image: image)
                #expect(result.exitedNormally, "\(command) crashed on round \(round)")
                #expect(documented.contains(result.status), "\(command): status \(result.status)")
            }
            let verify = try run("verify", "IMG", "--sector-size", "512")
            #expect(verify.status == ToolExitStatus.problemsFound.rawValue)
        }
    }
}
