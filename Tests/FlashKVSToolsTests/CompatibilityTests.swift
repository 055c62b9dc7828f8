import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

@Suite("Compatibility with the reference pw_kvs images (../shared/compat)",
       .enabled(if: PackagePaths.compatAvailable, "needs ../shared/compat beside the package (absent in a plain clone)"))
struct CompatibilityTests {
    @Test("list reads exactly the expected contents in the reference's order", arguments: CompatCase.all)
    func listMatchesTheReference(_ compat: CompatCase) throws {
        let description = try compat.description()
        let expected = try #require(description["expected"] as? [String: String])
        let order = try #require(description["list_order"] as? [String])
        let result = try ToolRunner.run(["list", compat.imagePath, "--json"] + compat.flags())
        CLIFixtures.expectSuccess(result)
        let listed = try #require(try CLIFixtures.json(result) as? [[String: String]])
        #expect(listed.map { $0["key"]! } == order)
        #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0["key"]!, $0["value_hex"]!) }) == expected)
    }

    @Test("get returns each expected value byte for byte", arguments: CompatCase.all)
    func getMatchesTheReference(_ compat: CompatCase) throws {
        let expected = try #require(try compat.description()["expected"] as? [String: String])
        for (key, hex) in expected.sorted(by: { $0.key < $1.key }).prefix(4) {
            let result = try ToolRunner.run(["get", compat.imagePath, key] + compat.flags())
            CLIFixtures.expectSuccess(result)
            #expect(Hex.encode([UInt8](result.standardOutput)) == hex, "\(key)")
        }
    }

    @Test("stats --json equals the reference's statistics after reopening", arguments: CompatCase.all)
    func statsMatchTheReference(_ compat: CompatCase) throws {
        let reference = try #require(try compat.description()["stats_after_reopen"] as? [String: Any])
        let result = try ToolRunner.run(["stats", compat.imagePath, "--json"] + compat.flags())
        CLIFixtures.expectSuccess(result)
        let stats = try #require(try CLIFixtures.json(result) as? [String: Any])
        let compared = ["init_status", "initialized", "error_detected", "size", "total_entries_with_deleted", "max_size",
                        "redundancy", "transaction_count", "max_key_value_size_bytes", "storage_stats", "geometry",
                        "last_new_sector", "sectors"]
        for field in compared {
            let ours = try JSONSerialization.data(withJSONObject: [stats[field] ?? NSNull()], options: [.sortedKeys])
            let theirs = try JSONSerialization.data(withJSONObject: [reference[field] ?? NSNull()], options: [.sortedKeys])
            #expect(ours == theirs, "\(field): \(String(decoding: ours, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))")
        }
    }

    @Test("verify finds the reference images clean, dump finds no corrupt entry", arguments: CompatCase.all)
    func referenceImagesVerifyClean(_ compat: CompatCase) throws {
        CLIFixtures.expectSuccess(try ToolRunner.run(["verify", compat.imagePath] + compat.flags()))
        let dump = try #require(try CLIFixtures.json(try ToolRunner.run(["dump", compat.imagePath, "--json"] + compat.flags()))
            as? [String: Any])
        let entries = try #require(dump["entries"] as? [[String: Any]])
        let total = try #require(try compat.description()["total_entries_with_deleted"] as? Int)
        #expect(!entries.contains { $0["state"] as? String == "corrupt" })
        #expect(Set(entries.compactMap { $0["key"] as? String }).count == total)
    }

    @Test("apply of the script onto an erased image writes the reference's bytes", arguments: CompatCase.all)
    func applyWritesTheReferenceImage(_ compat: CompatCase) throws {
        let description = try compat.description()
        let directory = try TemporaryDirectory()
        let image = directory.path("\(compat.name).img")
        CLIFixtures.expectSuccess(try ToolRunner.run(["create", image] + compat.flags()))
        let result = try ToolRunner.run(["apply", image, compat.scriptPath] + compat.flags())
        CLIFixtures.expectSuccess(result)
        #expect(result.output == "\(try #require(description["script_result"] as? String))\n")
        #expect(try SHA256.ofFile(image) == description["image_sha256"] as? String)
        #expect(try SHA256.ofFile(image) == SHA256.ofFile(compat.imagePath))
    }

    @Test("export of a reference image imports into an equal store", arguments: CompatCase.all)
    func exportThenImportKeepsTheContents(_ compat: CompatCase) throws {
        let directory = try TemporaryDirectory()
        let exported = directory.path("export.json")
        CLIFixtures.expectSuccess(try ToolRunner.run(["export", compat.imagePath, "-o", exported] + compat.flags()))
        let image = directory.path("copy.img")
        CLIFixtures.expectSuccess(try ToolRunner.run(["create", image] + compat.flags()))
        let imported = try ToolRunner.run(["import", image, exported] + compat.flags())
        #expect(imported.status == 0, "\(imported.standardError)")
        let original = try ToolRunner.run(["list", compat.imagePath, "--json"] + compat.flags()).output
        #expect(try ToolRunner.run(["list", image, "--json"] + compat.flags()).output == original)
    }
}
