import FlashKVSTools
import Foundation
import Testing

@Suite("Text formats: hex, base64, JSON, CSV")
struct TextFormatTests {
    @Test func hexRoundTripsAndRejectsBadInput() throws {
        let bytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF]
        #expect(Hex.encode(bytes) == "00017f80ff")
        #expect(try Hex.decode("00017F80ff") == bytes)
        #expect(try Hex.decode("0x00017f80ff") == bytes)
        #expect(try Hex.decode("") == [])
        #expect(throws: TextFormatError.self) { try Hex.decode("abc") }
        #expect(throws: TextFormatError.self) { try Hex.decode("0g") }
        #expect(throws: TextFormatError.self) { try Hex.decode("00 11") }
    }

    @Test func base64MatchesFoundationBothWays() throws {
        var random = SeededGenerator(seed: 64)
        for length in 0..<20 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(try Base64.decode(encoded) == bytes)
            #expect(try Base64.decode(encoded.replacingOccurrences(of: "=", with: "")) == bytes)
        }
        for bad in ["A", "AB=C", "A@==", "AB==="] {
            #expect(throws: TextFormatError.self, "\(bad)") { try Base64.decode(bad) }
        }
    }

    @Test func jsonDocumentsKeepMemberOrderAndLines() throws {
        let text = "{\"z\": [1, -2.5e3, true, null],\n \"a\": {\"hex\": \"00\"},\n\n \"\\u00e9\": \"line\\nbreak \\\"q\\\" \\\\ \\u0001\"}"
        let document = try JSONDocument(Array(text.utf8))
        #expect(document.children.map(\.name) == ["z", "a", "é"])
        #expect(document.children.map(\.line) == [1, 2, 4])
        #expect(document.children[2].value as? String == "line\nbreak \"q\" \\ \u{01}")
        let array = try JSONDocument(Array("[\n  {\"k\": [1, {\"x\": \",\"}]},\n  \"s\",\n  3\n]".utf8))
        #expect(array.children.map(\.line) == [2, 3, 4] && array.children.allSatisfy { $0.name == nil })
        // What the writer writes, Foundation reads back.
        let written = JSON.object([("é", .string("line\nbreak \"q\" \\ \u{01}/")), ("n", .array([.int(-3), .null]))])
            .serialized()
        let parsed = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any]
        #expect(parsed?["é"] as? String == "line\nbreak \"q\" \\ \u{01}/")
        #expect(try JSONDocument(Array(written.utf8)).children.map(\.name) == ["é", "n"])
    }

    @Test func jsonErrorsNameTheLineAndColumn() throws {
        let error = #expect(throws: TextFormatError.self) { try JSONDocument(Array("{\n  \"a\": tru\n}".utf8)) }
        #expect(error?.line == 2)
        #expect(error?.message.contains("(column 11)") == true, "\(error?.message ?? "")")
        for bad in ["", "{", "{\"a\" 1}", "\"\\x\"", "\"\\ud800\"", "01", "1.", "{} x", "\"a\u{01}\""] {
            #expect(throws: TextFormatError.self, "\(bad)") { try JSONDocument(Array(bad.utf8)) }
        }
        #expect(throws: TextFormatError.self) { try JSONDocument([0x22, 0xFF, 0x22]) }
        let deep = String(repeating: "[", count: 10000) + String(repeating: "]", count: 10000)
        #expect(throws: TextFormatError.self) { try JSONDocument(Array(deep.utf8)) }
    }

    @Test("The text codecs use Foundation, or say in one line why they cannot")
    func textCodecsUseFoundationOrSayWhyNot() throws {
        let folder = PackagePaths.root.appendingPathComponent("Sources/FlashKVSTools/Text")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 5)
        for file in files {
            let text = String(decoding: try Data(contentsOf: folder.appendingPathComponent(file)), as: UTF8.self)
            let usesFoundation = text.contains("import Foundation") || text.contains("import FoundationEssentials")
            let saysWhy = text.contains("Hand-written: ") || text.contains("(hand-written: ")
            #expect(usesFoundation || saysWhy, "\(file)")
        }
        // The JSON reader is Foundation's: no JSON grammar of our own.
        let json = String(decoding: try Data(contentsOf: folder.appendingPathComponent("JSONDocument.swift")), as: UTF8.self)
        #expect(json.contains("JSONSerialization.jsonObject") && !json.contains("parseNumber"))
    }

    @Test func csvHandlesQuotesCommasAndLineBreaks() throws {
        let records = try CSV.parse(Array("a,\"b,c\",\"d \"\"e\"\"\"\r\n\n\"multi\nline\",,x\nlast,1,2".utf8))
        #expect(records.map(\.fields) == [["a", "b,c", "d \"e\""], ["multi\nline", "", "x"], ["last", "1", "2"]])
        #expect(records.map(\.line) == [1, 3, 5])
        #expect(throws: TextFormatError.self) { try CSV.parse(Array("\"open,1,2\n".utf8)) }
        #expect(throws: TextFormatError.self) { try CSV.parse(Array("\"a\"b,1,2\n".utf8)) }
        #expect(CSV.escape("plain") == "plain" && CSV.escape("a,\"b\"") == "\"a,\"\"b\"\"\"")
    }

    @Test func provisioningFormatsAreDetected() {
        #expect(ProvisioningFile.detectFormat(Array("  \n{\"a\": \"b\"}".utf8)) == .json)
        #expect(ProvisioningFile.detectFormat(Array("key,type,value\n".utf8)) == .csv)
    }

    @Test func exportWritesTextOrHexPerValue() throws {
        let text = ProvisioningFile.export([(Array("t".utf8), Array("tab\there".utf8)), (Array("b".utf8), [0, 0x1B])])
        #expect(text == "{\n  \"t\": \"tab\\there\",\n  \"b\": {\"hex\": \"001b\"}\n}\n")
        // A key that is not UTF-8 makes it the records form, which import reads back.
        let records = ProvisioningFile.export([([0xFF], Array("v".utf8)), (Array("k".utf8), [0])])
        #expect(records == "[\n  {\"key_hex\": \"ff\", \"value\": \"v\"},\n  {\"key\": \"k\", \"value_hex\": \"00\"}\n]\n")
        let back = try ProvisioningFile.parse(Array(records.utf8), format: .json) { _ in [] }
        #expect(back.items.map(\.key) == [[0xFF], Array("k".utf8)] && back.items.map(\.value) == [Array("v".utf8), [0]])
        #expect(back.items.map(\.line) == [2, 3])
    }
}

@Suite("Store scripts")
struct StoreScriptTests {
    @Test func valuesAreTheRestOfTheLineAfterOneSpace() throws {
        let script = try StoreScript.parse(Array("put a 1\nput b  two  spaces \nput empty\nput e \r\nputhex h 00FF\n".utf8))
        #expect(script.lines.map(\.operation) == [
            .put(key: Array("a".utf8), value: Array("1".utf8)),
            .put(key: Array("b".utf8), value: Array(" two  spaces ".utf8)),
            .put(key: Array("empty".utf8), value: []),
            .put(key: Array("e".utf8), value: []),
            .put(key: Array("h".utf8), value: [0, 0xFF]),
        ])
    }

    @Test func commentsAndBlankLinesAreSkippedAndLinesKeepTheirNumbers() throws {
        let script = try StoreScript.parse(Array("# header\n\ndelete k\n   \nmaintain heavy\nreinit\n".utf8))
        #expect(script.lines.map(\.number) == [3, 5, 6])
        #expect(script.lines.map(\.operation) == [.delete(key: Array("k".utf8)), .maintain(.heavy), .reinit])
    }

    @Test func malformedLinesAreErrorsWithTheirLineNumber() {
        for (text, message) in [
            ("put a 1\nfly away\n", "line 2: unknown command"), ("put\n", "line 1: put needs a key"),
            ("put  x\n", "line 1: put needs a key"), ("puthex k 0\n", "line 1: odd number"),
            ("delete a b\n", "line 1: delete takes one key"), ("maintain sometimes\n", "line 1: maintain needs"),
            ("reinit now\n", "line 1: reinit takes no arguments"),
        ] {
            let error = #expect(throws: TextFormatError.self) { try StoreScript.parse(Array(text.utf8)) }
            #expect(error?.description.hasPrefix(message) == true, "\(text): \(error?.description ?? "")")
        }
    }

    @Test func aScriptRunsOnAnyFlashThroughASession() throws {
        let flash = RAMFlashFactory.make()
        let session = try StoreSession(flash: flash, configuration: StoreConfiguration(sectorSize: 512), writable: true)
        let script = try StoreScript.parse(Array("put a 1\nput b 2\ndelete a\nreinit\nput c 3\n".utf8))
        #expect(try script.apply(to: session) == 5)
        #expect(try session.store.contents().map(\.key) == [Array("b".utf8), Array("c".utf8)])
        let failing = try StoreScript.parse(Array("put d 4\ndelete a\n".utf8))
        #expect(throws: ScriptFailure(line: 2, operation: .delete(key: Array("a".utf8)), error: .notFound)) {
            try failing.apply(to: session)
        }
    }
}

import FlashKVS

enum RAMFlashFactory {
    static func make() -> RAMFlash { RAMFlash(sectorSize: 512, sectorCount: 4) }
}
