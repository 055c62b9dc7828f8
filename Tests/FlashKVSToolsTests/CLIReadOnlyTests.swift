import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

/// An image content to run the read-only commands on.
struct ReadOnlyCase: CustomTestStringConvertible, Sendable {
    var name: String
    var testDescription: String { name }
    static let all = ["clean", "corrupt", "gap", "random", "unindexed"].map { ReadOnlyCase(name: $0) }
}

@Suite("Read-only commands never change a byte")
struct CLIReadOnlyTests {
    static let commands: [[String]] = [
        ["get", "IMG", "key1"], ["get", "IMG", "key1", "--hex"], ["list", "IMG"], ["list", "IMG", "--json"],
        ["export", "IMG"], ["dump", "IMG"], ["dump", "IMG", "--json"], ["verify", "IMG"], ["verify", "IMG", "--json"],
        ["stats", "IMG"], ["stats", "IMG", "--json"], ["map", "IMG"], ["map", "IMG", "--color", "always"],
    ]

    func makeImage(_ kind: String, at path: String) throws -> [String] {
        var random = SeededGenerator(seed: 77)
        let items = (0..<12).map { ("key\($0 % 5)", (0..<($0 * 7)).map { _ in UInt8.random(in: 0...255, using: &random) }) }
        switch kind {
        case "random":
            try Data((0..<2048).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: path))
        case "unindexed":
            try CLIFixtures.makeImage(path, items: items)
            return ["--max-entries", "2"]
        default:
            try CLIFixtures.makeImage(path, items: items)
            if kind == "corrupt" { try CLIFixtures.flipByte(path, at: 512 + 40) }
            if kind == "gap" { try CLIFixtures.flipByte(path, at: 512 + 500) }
        }
        return []
    }

    @Test("Hash before and after every read-only command", arguments: ReadOnlyCase.all)
    func readOnlyCommandsLeaveTheImageUnchanged(_ contents: ReadOnlyCase) throws {
        let directory = try TemporaryDirectory()
        let image = directory.path("flash.img")
        let extra = try makeImage(contents.name, at: image)
        let before = try SHA256.ofFile(image)
        let modified = try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date
        for command in Self.commands {
            let result = try ToolRunner.run(command + ["--sector-size", "512"] + extra, image: image)
            #expect(result.exitedNormally, "\(command) crashed")
            #expect(try SHA256.ofFile(image) == before, "\(command) changed the image")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date == modified)
    }
}
