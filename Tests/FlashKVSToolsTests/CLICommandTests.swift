import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

@Suite("flashkvs commands")
struct CLICommandTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    @Test func createMakesAnErasedImageOfTheGeometry() throws {
        let result = try run("create", "IMG", "--sectors", "3", "--sector-size", "1024")
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("3 sectors x 1024 bytes"))
        let bytes = try directory.read("flash.img")
        #expect(bytes.count == 3072 && bytes.allSatisfy { $0 == 0xFF })
    }

    @Test func createNeedsSectorsAndRefusesAnExistingFileUnlessForced() throws {
        CLIFixtures.expectFailure(try run("create", "IMG"), .badArgument, containing: "--sectors")
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "2", "--sector-size", "512"))
        CLIFixtures.expectFailure(try run("create", "IMG", "--sectors", "4", "--sector-size", "512"), .ioError,
                                  containing: "already exists")
        #expect(try directory.read("flash.img").count == 1024)
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "4", "--sector-size", "512", "--force"))
        #expect(try directory.read("flash.img").count == 2048)
    }

    @Test func sectorsAbove64KiBWorkThroughTheTool() throws {
        let geometry = ["--sectors", "3", "--sector-size", "131072"]
        let created = try run(["create", "IMG"] + geometry)
        CLIFixtures.expectSuccess(created)
        #expect(created.output.contains("3 sectors x 131072 bytes"))
        #expect(try directory.read("flash.img").count == 3 * 131072)
        // A value larger than 64 KiB of entries per sector: three 30000-byte values share one sector.
        for key in ["a", "b", "c"] {
            CLIFixtures.expectSuccess(try run(["put", "IMG", key, String(repeating: key, count: 30000)] + geometry))
        }
        let listed = try run(["list", "IMG"] + geometry)
        CLIFixtures.expectSuccess(listed)
        #expect(["a", "b", "c"].allSatisfy { listed.output.contains($0) })
        #expect(try run(["get", "IMG", "b"] + geometry).output == String(repeating: "b", count: 30000))
        CLIFixtures.expectSuccess(try run(["verify", "IMG"] + geometry))
        CLIFixtures.expectFailure(try run(["create", "IMG", "--sectors", "3", "--sector-size", "\((1 << 30) + 16)", "--force"]),
                                  .badArgument, containing: "--sector-size")
    }

    @Test func putCreatesAMissingImageAndGetReadsTheValueBack() throws {
        CLIFixtures.expectSuccess(try run("put", "IMG", "greeting", "hello world", "--sectors", "4", "--sector-size", "512"))
        #expect(try directory.read("flash.img").count == 2048)
        let result = try run("get", "IMG", "greeting", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        #expect(result.output == "hello world")
        #expect(try run("get", "IMG", "greeting", "--hex", "--sector-size", "512").output == "68656c6c6f20776f726c64\n")
    }

    @Test func putTakesHexAndFileValuesAndGetWritesRawBytes() throws {
        let binary = Data([0, 255, 10, 13, 128, 0])
        let file = try directory.write("value.bin", binary)
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "4", "--sector-size", "512"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "raw", "--file", file, "--sector-size", "512"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "hex", "--hex", "00FF7f", "--sector-size", "512"))
        #expect(try run("get", "IMG", "raw", "--sector-size", "512").standardOutput == binary)
        #expect(try run("get", "IMG", "hex", "--sector-size", "512").standardOutput == Data([0, 255, 127]))
    }

    @Test func putNeedsExactlyOneValue() throws {
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "4", "--sector-size", "512"))
        CLIFixtures.expectFailure(try run("put", "IMG", "k", "--sector-size", "512"), .badArgument, containing: "needs a value")
        CLIFixtures.expectFailure(try run("put", "IMG", "k", "v", "--hex", "00", "--sector-size", "512"), .badArgument,
                                  containing: "one value")
    }

    @Test func deleteRemovesAKeyAndADeletedKeyIsNotFound() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("b", [2])])
        CLIFixtures.expectSuccess(try run("delete", "IMG", "a", "--sector-size", "512"))
        CLIFixtures.expectFailure(try run("get", "IMG", "a", "--sector-size", "512"), .notFound, containing: "'a'")
        CLIFixtures.expectFailure(try run("delete", "IMG", "a", "--sector-size", "512"), .notFound)
        #expect(try run("get", "IMG", "b", "--hex", "--sector-size", "512").output == "02\n")
    }

    @Test func listPrintsKeysInIterationOrderAsTextAndJSON() throws {
        try CLIFixtures.makeImage(image, items: [("zeta", Array("last".utf8)), ("alpha", [0, 1]), ("zeta", Array("z".utf8))])
        let text = try run("list", "IMG", "--sector-size", "512")
        CLIFixtures.expectSuccess(text)
        #expect(text.output == "zeta   \"z\"\nalpha  hex:0001\n")
        let json = try #require(try CLIFixtures.json(try run("list", "IMG", "--json", "--sector-size", "512")) as? [[String: String]])
        #expect(json == [["key": "zeta", "value_hex": "7a"], ["key": "alpha", "value_hex": "0001"]])
    }

    @Test func listOfAnEmptyImageIsAnEmptyJSONArray() throws {
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "4", "--sector-size", "512"))
        #expect(try run("list", "IMG", "--json", "--sector-size", "512").output == "[]\n")
    }

    @Test func dumpShowsEveryEntryWithItsState() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("b", [2]), ("a", [3])])
        CLIFixtures.expectSuccess(try run("delete", "IMG", "b", "--sector-size", "512"))
        let result = try run("dump", "IMG", "--json", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        let dump = try #require(try CLIFixtures.json(result) as? [String: Any])
        let entries = try #require(dump["entries"] as? [[String: Any]])
        #expect(entries.map { $0["key"] as? String } == ["a", "b", "a", "b"])
        #expect(entries.map { $0["state"] as? String } == ["stale", "stale", "live", "deleted"])
        #expect(entries.map { $0["transaction_id"] as? Int } == [1, 2, 3, 4])
        #expect(entries.map { $0["offset"] as? Int } == [0, 32, 64, 96])
        #expect(entries[3]["tombstone"] as? Bool == true)
        #expect(entries[0]["magic"] as? String == "0xd253a8a9")
        let text = try run("dump", "IMG", "--sector-size", "512").output
        #expect(text.contains("4 entries: 1 live, 2 stale, 1 deleted, 0 corrupt, 0 unindexed"))
    }

    @Test func repeatedMagicsReadTwoFormatsAndFullMaintenanceMigratesToTheFirst() throws {
        // A device that changed its magic: entries of the old format (CRC16) beside the new one's (no checksum).
        let flash = try FileFlash.create(at: image, geometry: FlashGeometry(sectorSize: 512, sectorCount: 4, alignment: 16))
        let old = StoreConfiguration(sectorSize: 512, magic: 0x1111_1111)
        try StoreSession(flash: flash, configuration: old, writable: true).store.put("old", Array("1".utf8))
        let new = StoreConfiguration(sectorSize: 512, magic: 0x2222_2222, checksum: .none,
                                     additionalFormats: [old.primaryFormat])
        try StoreSession(flash: flash, configuration: new, writable: true).store.put("new", Array("2".utf8))
        try flash.close()
        let newOnly = ["--sector-size", "512", "--magic", "0x22222222", "--checksum", "none"]
        let both = newOnly + ["--magic", "0x11111111", "--checksum", "crc16"]

        let verify = try ToolRunner.run(["verify", "IMG"] + newOnly, image: image)
        CLIFixtures.expectFailure(verify, .problemsFound)
        #expect(verify.output.contains("format_mismatch") && verify.output.contains("add --magic 0x11111111"))
        let list = try ToolRunner.run(["list", "IMG", "--json"] + both, image: image)
        CLIFixtures.expectSuccess(list)
        let items = try #require(try CLIFixtures.json(list) as? [[String: Any]])
        #expect(Set(items.compactMap { $0["key"] as? String }) == ["old", "new"])
        let dump = try #require(try CLIFixtures.json(try ToolRunner.run(["dump", "IMG", "--json"] + both, image: image))
            as? [String: Any])
        let entries = try #require(dump["entries"] as? [[String: Any]])
        #expect(entries.map { $0["format"] as? String } == ["additional", "primary"])
        #expect(entries.map { $0["transaction_id"] as? Int } == [1, 2])
        let formats = (dump["geometry"] as? [String: Any])?["additional_formats"] as? [[String: String]]
        #expect(formats == [["magic": "0x11111111", "checksum": "crc16"]])

        CLIFixtures.expectSuccess(try ToolRunner.run(["maintain", "IMG", "full"] + both, image: image))
        let after = try ToolRunner.run(["dump", "IMG", "--json"] + newOnly, image: image)
        CLIFixtures.expectSuccess(after)
        let migrated = try #require((try CLIFixtures.json(after) as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(migrated.filter { $0["state"] as? String == "live" }.map { $0["magic"] as? String }
            == ["0x22222222", "0x22222222"])
        #expect(try ToolRunner.run(["get", "IMG", "old"] + newOnly, image: image).output == "1")
    }

    @Test func statsReportsTheStoresCounters() throws {
        try CLIFixtures.makeImage(image, items: [("key1", Array("value1".utf8)), ("key1", Array("value2".utf8))])
        let stats = try #require(try CLIFixtures.json(try run("stats", "IMG", "--json", "--sector-size", "512")) as? [String: Any])
        #expect(stats["size"] as? Int == 1)
        #expect(stats["transaction_count"] as? Int == 2)
        let storage = try #require(stats["storage_stats"] as? [String: Any])
        // 4 x 512 bytes, one sector in reserve, two 32-byte entries of which one is current.
        #expect(storage["writable_bytes"] as? Int == 1536 - 64)
        #expect(storage["in_use_bytes"] as? Int == 32)
        #expect(storage["reclaimable_bytes"] as? Int == 32)
        #expect((stats["sectors"] as? [Any])?.count == 4)
        #expect(try run("stats", "IMG", "--sector-size", "512").output.contains("keys: 1 present"))
    }

    @Test func maintainHeavyReclaimsStaleBytes() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("a", [2]), ("b", [3])])
        let result = try run("maintain", "IMG", "heavy", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("reclaimable 32 -> 0 bytes"))
        let stats = try #require(try CLIFixtures.json(try run("stats", "IMG", "--json", "--sector-size", "512")) as? [String: Any])
        #expect((stats["storage_stats"] as? [String: Any])?["reclaimable_bytes"] as? Int == 0)
        #expect(try run("get", "IMG", "a", "--hex", "--sector-size", "512").output == "02\n")
    }

    @Test func mapDrawsOneBarPerSectorPlainWhenPiped() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("a", [2])])
        let result = try run("map", "IMG", "--sector-size", "512", "--width", "16")
        CLIFixtures.expectSuccess(result)
        let bars = result.output.split(separator: "\n").filter { $0.hasPrefix("sector ") }
        #expect(bars.count == 4)
        #expect(!result.output.contains("\u{1B}["))
        // 512 bytes in 16 cells of 32: the stale entry, the live one, then free cells.
        #expect(bars.contains { $0.contains("[+#..............]") })
        #expect(bars.filter { $0.contains("[................]") }.count == 3)
    }

    @Test func mapUsesANSIColorsWhenAskedAndWritesSVG() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        let svg = directory.path("map.svg")
        let result = try run("map", "IMG", "--sector-size", "512", "--color", "always", "--svg", svg)
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("\u{1B}[32m"))
        let document = String(decoding: try Data(contentsOf: URL(fileURLWithPath: svg)), as: UTF8.self)
        #expect(document.hasPrefix("<svg") && document.hasSuffix("</svg>\n"))
        #expect(document.components(separatedBy: "fill=\"#2e9d4a\"><title>valid").count - 1 == 1)
        #expect(document.components(separatedBy: "<g>").count - 1 == 4)
    }

    @Test func verifyPassesACleanImage() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("b", [2])])
        let result = try run("verify", "IMG", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("is clean: 2 keys"))
        let json = try #require(try CLIFixtures.json(try run("verify", "IMG", "--json", "--sector-size", "512")) as? [String: Any])
        #expect(json["clean"] as? Bool == true && (json["problems"] as? [Any])?.isEmpty == true)
    }

    @Test func verifyReportsACorruptEntryWhereItIs() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("b", [2]), ("c", [3])])
        let sector = try #require(try ImageInspector.inspect(
            FileFlash(openingImageAt: image, sectorSize: 512, alignment: 16, mode: .readOnly),
            configuration: StoreConfiguration(sectorSize: 512)).entries.first).sector
        try CLIFixtures.flipByte(image, at: sector * 512 + 32 + 16)
        let result = try run("verify", "IMG", "--json", "--sector-size", "512")
        CLIFixtures.expectFailure(result, .problemsFound, containing: "1 problem")
        let json = try #require(try CLIFixtures.json(result) as? [String: Any])
        let problems = try #require(json["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems[0]["kind"] as? String == "corrupt_entry")
        #expect(problems[0]["sector"] as? Int == sector && problems[0]["offset"] as? Int == 32)
    }

    @Test func repairFixesACorruptImageAndReportsWhatChanged() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("b", [2]), ("c", [3])])
        try CLIFixtures.flipByte(image, at: 512 + 32 + 17)  // the value of 'b' (a 16-byte header, then the key)
        CLIFixtures.expectFailure(try run("put", "IMG", "d", "4", "--sector-size", "512"), .corruptImage, containing: "repair")
        let result = try run("repair", "IMG", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("corrupt sectors recovered: 1"))
        // 'b' had one entry, and it is corrupt: lost, and counted among the keys before.
        #expect(result.output.contains("keys: 3 -> 2; lost: 'b' (its entry was corrupt); changed: none"))
        #expect(result.output.contains("unreadable entries (their data was already lost): 1"))
        CLIFixtures.expectSuccess(try run("verify", "IMG", "--sector-size", "512"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "d", "4", "--sector-size", "512"))
        let keys = try #require(try CLIFixtures.json(try run("list", "IMG", "--json", "--sector-size", "512")) as? [[String: String]])
        #expect(keys.map { $0["key"] } == ["a", "c", "d"])
    }

    @Test func repairOfACleanImageChangesNothing() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("a", [2])])
        let before = try SHA256.ofFile(image)
        let result = try run("repair", "IMG", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("nothing changed"))
        #expect(try SHA256.ofFile(image) == before)
    }

    @Test func applyRunsAScriptAndPrintsTheReferenceSummary() throws {
        let script = try directory.write("ops.script", """
            # a comment
            put a first value
            puthex b 00ff
            put empty
            put a  two spaces
            delete b
            reinit
            maintain full
            maintain partial

            """)
        let result = try run("apply", "IMG", script, "--sectors", "4", "--sector-size", "512")
        CLIFixtures.expectSuccess(result)
        // 5 writes (the delete is one); partial maintenance erases the sector of the stale versions.
        #expect(result.output == "ops=8 failures=0 size=2 transaction_count=5 sectors_erased=1\n")
        #expect(try run("get", "IMG", "a", "--sector-size", "512").output == " two spaces")
        #expect(try run("get", "IMG", "empty", "--hex", "--sector-size", "512").output == "\n")
        CLIFixtures.expectFailure(try run("get", "IMG", "b", "--sector-size", "512"), .notFound)
    }

    @Test func applyStopsAtTheFirstFailingLineNamesItAndAppliesNothing() throws {
        let script = try directory.write("ops.script", "put a 1\ndelete nope\nput b 2\n")
        let result = try run("apply", "IMG", script, "--sectors", "4", "--sector-size", "512")
        CLIFixtures.expectFailure(result, .notFound, containing: "ops.script:2: delete 'nope'")
        #expect(result.standardError.contains("nothing was applied"))
        #expect(!FileManager.default.fileExists(atPath: image), "a failed apply created the image")
        try CLIFixtures.makeImage(image, items: [("x", [1])])
        let before = try SHA256.ofFile(image)
        CLIFixtures.expectFailure(try run("apply", "IMG", script, "--sector-size", "512"), .notFound)
        #expect(try SHA256.ofFile(image) == before, "the lines before the failing one stayed applied")
    }

    @Test func aFullStoreIsReportedAsNoRoom() throws {
        let value = String(repeating: "v", count: 400)
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "2", "--sector-size", "512"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "a", value, "--sector-size", "512"))
        CLIFixtures.expectFailure(try run("put", "IMG", "b", value, "--sector-size", "512"), .storeFull, containing: "no room")
    }
}
