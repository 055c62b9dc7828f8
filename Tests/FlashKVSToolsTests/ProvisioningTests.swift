import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

@Suite("import and export (factory provisioning)")
struct ProvisioningTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    static let flags = ["--sector-size", "512"]

    /// A JSON file in export's own format: importing then exporting gives it back byte for byte.
    static let canonicalJSON = """
        {
          "serial": "SN-0042",
          "blob": {"hex": "00ff7f80"},
          "empty": "",
          "unicode": "héllo ✓",
          "multi line": "a\\tb\\nc \\"quoted\\" \\\\ end",
          "nul": {"hex": "0000"}
        }

        """

    @Test func importThenExportGivesTheInputBack() throws {
        let input = try directory.write("in.json", Self.canonicalJSON)
        let result = try run("import", "IMG", input, "--sectors", "4")
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("imported 6 keys"))
        let exported = try run("export", "IMG")
        CLIFixtures.expectSuccess(exported)
        #expect(exported.output == Self.canonicalJSON)
        #expect(try run("get", "IMG", "blob", "--hex").output == "00ff7f80\n")
        #expect(try run("get", "IMG", "unicode").output == "héllo ✓")
    }

    @Test func jsonEscapesAndHexCaseAreAccepted() throws {
        let input = try directory.write("in.json", #"{"a": "\u00e9\ud83d\ude00", "b": {"hex": "ABCD"}, "c/d": "\/"}"#)
        CLIFixtures.expectSuccess(try run("import", "IMG", input, "--sectors", "4"))
        #expect(try run("get", "IMG", "a").output == "é😀")
        #expect(try run("get", "IMG", "b", "--hex").output == "abcd\n")
        #expect(try run("get", "IMG", "c/d").output == "/")
    }

    @Test func csvTypesAreDecoded() throws {
        try directory.write("blob.bin", Data([9, 8, 7]))
        let input = try directory.write("in.csv", #"""
            key,type,value
            name,text,"Widget, large"
            quote,text,"say ""hi"""
            raw,hex,DEADbeef
            b64,base64,AAEC/w==
            small,u8,255
            word,u16,0x1234
            count,u32,305419896
            big,u64,18446744073709551615
            neg8,i8,-128
            neg16,i16,-2
            neg32,i32,-1
            neg64,i64,-9223372036854775808
            pos32,i32,2147483647
            payload,file,blob.bin

            """#)
        let result = try run("import", "IMG", input, "--sectors", "4")
        CLIFixtures.expectSuccess(result)
        let expected: [(String, String)] = [
            ("name", "576964676574"), ("quote", "7361792022686922"), ("raw", "deadbeef"), ("b64", "000102ff"),
            ("small", "ff"), ("word", "3412"), ("count", "78563412"), ("big", "ffffffffffffffff"), ("neg8", "80"),
            ("neg16", "feff"), ("neg32", "ffffffff"), ("neg64", "0000000000000080"), ("pos32", "ffffff7f"),
            ("payload", "090807"),
        ]
        for (key, hex) in expected where key != "name" {
            #expect(try run("get", "IMG", key, "--hex").output == hex + "\n", "\(key)")
        }
        #expect(try run("get", "IMG", "name").output == "Widget, large")
        let order = try #require(try CLIFixtures.json(try run("list", "IMG", "--json")) as? [[String: String]])
        #expect(order.map { $0["key"]! } == expected.map(\.0))
    }

    @Test func malformedJSONIsBadInputAndWritesNothing() throws {
        for (name, text, message) in [
            ("colon", "{\n\"a\" \"1\"}", "syntax.json:2: not valid JSON"), ("number", #"{"a": 5}"#, "a string or"),
            ("array", #"["a"]"#, "a record must be an object"), ("hex", #"{"a": {"hex": "zz"}}"#, "not hex"),
            ("duplicate", #"{"a": "1", "a": "2"}"#, "twice"), ("unterminated", #"{"a": "1"#, "unterminated"),
            ("long", "{\"\(String(repeating: "k", count: 64))\": \"v\"}", "1 to 63 bytes"),
        ] {
            let input = try directory.write(name == "colon" ? "syntax.json" : "\(name).json", text)
            CLIFixtures.expectFailure(try run("import", "IMG", input, "--sectors", "4"), .badInput, containing: message)
            #expect(!FileManager.default.fileExists(atPath: image), "\(name) created the image")
        }
    }

    @Test func malformedCSVIsBadInputNamingTheLine() throws {
        for (name, text, message) in [
            ("fields", "a,text\n", "fields.csv:1: expected 3 fields"), ("type", "a,text,1\nb,float,2\n", "type.csv:2: "),
            ("range", "a,u8,256\n", "out of range"), ("signed", "a,i8,-129\n", "out of range"),
            ("negative", "a,u16,-1\n", "out of range"), ("number", "a,u32,12x\n", "not a number"),
            ("base64", "a,base64,@@@@\n", "not base64"), ("quote", "a,text,\"open\n", "unterminated"),
            ("file", "a,file,missing.bin\n", "missing.bin"),
        ] {
            let input = try directory.write("\(name).csv", text)
            let result = try run("import", "IMG", input, "--sectors", "4")
            CLIFixtures.expectFailure(result, name == "file" ? .ioError : .badInput, containing: message)
        }
        #expect(!FileManager.default.fileExists(atPath: image))
    }

    @Test func aValueTooLargeForASectorIsRejectedBeforeWriting() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        let before = try SHA256.ofFile(image)
        let input = try directory.write("in.json", "{\"b\": \"2\", \"big\": \"\(String(repeating: "x", count: 600))\"}")
        CLIFixtures.expectFailure(try run("import", "IMG", input), .badInput, containing: "in.json:1: key 'big'")
        #expect(try SHA256.ofFile(image) == before)
    }

    @Test func exportWritesToAFileWithOutput() throws {
        try CLIFixtures.makeImage(image, items: [("a", Array("1".utf8)), ("b", [0xFF])])
        CLIFixtures.expectSuccess(try run("export", "IMG", "--output", directory.path("out.json")))
        #expect(String(decoding: try directory.read("out.json"), as: UTF8.self)
            == "{\n  \"a\": \"1\",\n  \"b\": {\"hex\": \"ff\"}\n}\n")
    }
}
