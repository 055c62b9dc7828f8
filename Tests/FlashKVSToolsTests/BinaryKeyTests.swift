import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

/// Issue 20, point 4: keys that are not text, end to end.
@Suite("Binary keys end to end")
struct BinaryKeyTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    static let flags = ["--sector-size", "512"]

    @Test func anArgumentThatIsNotUTF8IsRefusedNotReplaced() throws {
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "4"))
        let before = try SHA256.ofFile(image)
        let result = try ToolRunner.run(rawArguments: [
            Array("put".utf8), Array(image.utf8), [0x6B, 0xFF, 0xFE], Array("v".utf8), Array("--sector-size".utf8),
            Array("512".utf8),
        ])
        CLIFixtures.expectFailure(result, .badArgument, containing: "argument 3 (0x6bfffe) is not valid UTF-8")
        #expect(result.standardError.contains("--key-hex"))
        #expect(try SHA256.ofFile(image) == before)
    }

    @Test func keyHexPutsGetsListsAndDeletesAnyBytes() throws {
        CLIFixtures.expectSuccess(try run("put", "IMG", "--key-hex", "00ff20", "binary", "--sectors", "4"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "--key-hex", "6b", "--hex", "0102"))
        #expect(try run("get", "IMG", "--key-hex", "00FF20").output == "binary")
        #expect(try run("get", "IMG", "k", "--hex").output == "0102\n")
        #expect(try run("list", "IMG").output == "0x00ff20  \"binary\"\nk         hex:0102\n")
        let json = try #require(try CLIFixtures.json(try run("list", "IMG", "--json")) as? [[String: Any]])
        #expect(json[0]["key"] is NSNull && json[0]["key_hex"] as? String == "00ff20")
        let dump = try #require(try CLIFixtures.json(try run("dump", "IMG", "--json")) as? [String: Any])
        let entries = try #require(dump["entries"] as? [[String: Any]])
        #expect(entries[0]["key"] is NSNull && entries[0]["key_hex"] as? String == "00ff20")
        #expect(try run("dump", "IMG").output.contains("  0x00ff20\n"))
        CLIFixtures.expectSuccess(try run("delete", "IMG", "--key-hex", "00ff20"))
        CLIFixtures.expectFailure(try run("get", "IMG", "--key-hex", "00ff20"), .notFound, containing: "0x00ff20")
        CLIFixtures.expectFailure(try run("get", "IMG", "k", "--key-hex", "6b"), .badArgument, containing: "not both")
        CLIFixtures.expectFailure(try run("get", "IMG", "--key-hex", "6"), .badArgument, containing: "--key-hex")
    }

    @Test func tablesTellEveryKeyApart() throws {
        // A text key spelled like hex, one with spaces, one with a quote, a binary key.
        CLIFixtures.expectSuccess(try run("put", "IMG", "0x00ff", "text", "--sectors", "4"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "--key-hex", "00ff", "bytes"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "a b", "spaced"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "\"q", "quoted"))
        let lines = try run("list", "IMG").output.split(separator: "\n").map { $0.split(separator: " ").first ?? "" }
        #expect(lines == ["\"0x00ff\"", "0x00ff", "\"a", "\"\\\"q\""])
        let keys = try run("list", "IMG").output.split(separator: "\n").map { String($0.prefix(8)) }
        #expect(keys == ["\"0x00ff\"", "0x00ff  ", "\"a b\"   ", "\"\\\"q\"   "])
    }

    @Test func exportWritesBinaryKeysAsRecordsAndImportReadsThemBack() throws {
        CLIFixtures.expectSuccess(try run("put", "IMG", "--key-hex", "80", "--hex", "00", "--sectors", "4"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "name", "widget"))
        let exported = try run("export", "IMG")
        CLIFixtures.expectSuccess(exported)
        #expect(exported.output == "[\n  {\"key_hex\": \"80\", \"value_hex\": \"00\"},\n  {\"key\": \"name\", \"value\": \"widget\"}\n]\n")
        let file = try directory.write("export.json", exported.standardOutput)
        let copy = directory.path("copy.img")
        CLIFixtures.expectSuccess(try ToolRunner.run(["import", copy, file, "--sectors", "4", "--sector-size", "512"]))
        let original = try run("list", "IMG", "--json").output
        #expect(try ToolRunner.run(["list", copy, "--json", "--sector-size", "512"]).output == original)
        // What list --json prints imports too.
        let listed = try directory.write("listed.json", original)
        let third = directory.path("third.img")
        CLIFixtures.expectSuccess(try ToolRunner.run(["import", third, listed, "--sectors", "4", "--sector-size", "512"]))
        #expect(try ToolRunner.run(["list", third, "--json", "--sector-size", "512"]).output == original)
    }

    @Test func malformedRecordsNameTheirLine() throws {
        for (text, message) in [
            ("[\n  {\"key\": \"a\", \"value\": \"1\"},\n  {\"key\": \"b\"}\n]", "bad.json:3: a record needs value or value_hex"),
            ("[\n  {\"key\": \"a\", \"key_hex\": \"61\", \"value\": \"1\"}\n]", "bad.json:2: a record takes key or key_hex, not both"),
            ("[{\"key_hex\": \"6\", \"value\": \"1\"}]", "bad.json:1: key_hex: odd number"),
            ("[{\"key\": \"a\", \"value\": \"1\", \"colour\": \"red\"}]", "bad.json:1: unknown field \"colour\""),
            ("[{\"key\": \"a\", \"value\": \"1\"},\n {\"key_hex\": \"61\", \"value\": \"2\"}]", "bad.json:2: key 'a' is given twice"),
        ] {
            let input = try directory.write("bad.json", text)
            CLIFixtures.expectFailure(try run("import", "IMG", input, "--sectors", "4"), .badInput, containing: message)
        }
        #expect(!FileManager.default.fileExists(atPath: image))
    }

    @Test func scriptsTakeKeysAsHex() throws {
        let script = try directory.write("ops.script", """
            put-key-hex 00ff text value
            puthex-key-hex 612062 0102
            put c 3
            delete-key-hex 63

            """)
        let result = try run("apply", "IMG", script, "--sectors", "4")
        CLIFixtures.expectSuccess(result)
        #expect(try run("get", "IMG", "--key-hex", "00ff").output == "text value")
        #expect(try run("get", "IMG", "a b", "--hex").output == "0102\n")
        CLIFixtures.expectFailure(try run("get", "IMG", "c"), .notFound)
        let bad = try directory.write("bad.script", "put-key-hex zz 1\n")
        CLIFixtures.expectFailure(try run("apply", "IMG", bad), .badInput, containing: "bad.script:1: the key: 'zz' is not hex")
    }
}
