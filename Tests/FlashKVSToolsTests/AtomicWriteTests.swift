import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 20, point 1: a writing command that fails, or is killed, leaves
/// the image byte-identical; one that succeeds replaces it whole.
@Suite("Writing commands: all or nothing")
struct AtomicWriteTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    /// Six 3000-byte values: four 4 KiB sectors hold three of them (one sector stays erased).
    func sixLargeValues() throws -> String {
        let members = (1...6).map { "\"key\($0)\": \"\(String(repeating: Character(String($0)), count: 3000))\"" }
        return try directory.write("big.json", "{\n  " + members.joined(separator: ",\n  ") + "\n}\n")
    }

    /// The files of the test folder other than the inputs (the image, and any temporary file left).
    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { !$0.hasSuffix(".json") }.sorted()
    }

    @Test func anImportThatRunsOutOfRoomLeavesTheImageByteIdentical() throws {
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "4"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "serial", "SN-1"))
        let before = try SHA256.ofFile(image)
        let result = try run("import", "IMG", try sixLargeValues())
        CLIFixtures.expectFailure(result, .storeFull, containing: "big.json:5: put 'key4'")
        #expect(result.standardError.contains("nothing was imported"))
        #expect(try SHA256.ofFile(image) == before)
        #expect(try leftovers() == ["flash.img"], "the copy was not removed")
        let verify = try run("verify", "IMG")
        CLIFixtures.expectSuccess(verify)
        #expect(verify.output.contains("clean: 1 key,"))
    }

    @Test func anImportThatFailsDoesNotCreateTheImage() throws {
        CLIFixtures.expectFailure(try run("import", "IMG", try sixLargeValues(), "--sectors", "4"), .storeFull)
        #expect(try leftovers().isEmpty)
    }

    @Test func failedPutDeleteApplyAndMaintainLeaveTheImageByteIdentical() throws {
        try CLIFixtures.makeImage(image, sectors: 2, items: [("a", Array(repeating: 1, count: 300))])
        let before = try SHA256.ofFile(image)
        let modified = try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date
        let flags = ["--sector-size", "512"]
        CLIFixtures.expectFailure(
            try ToolRunner.run(["put", "IMG", "b", String(repeating: "v", count: 300)] + flags, image: image), .storeFull)
        CLIFixtures.expectFailure(try ToolRunner.run(["delete", "IMG", "nope"] + flags, image: image), .notFound)
        let script = try directory.write("ops.script", "delete a\nput c 1\nmaintain heavy\ndelete nope\n")
        CLIFixtures.expectFailure(try ToolRunner.run(["apply", "IMG", script] + flags, image: image), .notFound,
                                  containing: "ops.script:4: delete 'nope'")
        // Maintenance with nothing to do writes nothing: the file is not even replaced.
        CLIFixtures.expectSuccess(try ToolRunner.run(["maintain", "IMG", "partial"] + flags, image: image))
        #expect(try SHA256.ofFile(image) == before)
        #expect(try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date == modified)
        #expect(try leftovers() == ["flash.img", "ops.script"])
    }

    @Test("SIGKILL after the first flash write of put, delete, apply, apply --atomic, maintain and repair changes nothing",
          arguments: ["put", "delete", "apply", "apply --atomic", "maintain", "repair"])
    func killedWritingCommandsLeaveTheImageUnchanged(_ command: String) throws {
        try CLIFixtures.makeImage(image, items: [("a", [1]), ("b", [2]), ("a", [3]), ("c", [4])])
        let script = try directory.write("ops.script", "put d 5\ndelete a\n")
        let arguments: [String] = switch command {
        case "put": ["put", image, "d", "5"]
        case "delete": ["delete", image, "b"]
        case "apply": ["apply", image, script]
        case "apply --atomic": ["apply", "--atomic", image, script]
        case "maintain": ["maintain", image, "heavy"]
        default: ["repair", image]
        }
        if command == "repair" { try CLIFixtures.flipByte(image, at: 512 + 32 + 17) }  // the value of 'b'
        let before = try SHA256.ofFile(image)
        let running = try ToolRunner.Running(
            arguments + ["--sector-size", "512"], environment: ["FLASHKVS_TEST_PAUSE_AFTER_WRITES": "1"])
        #expect(running.waitForStandardError(containing: "paused after 1 flash write"), "\(running.standardError)")
        running.kill()
        #expect(try SHA256.ofFile(image) == before, "\(command)")
    }

    @Test("SIGKILL in the middle of an import leaves the image unchanged")
    func killedMidImportLeavesTheImageUnchanged() throws {
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "8"))
        CLIFixtures.expectSuccess(try run("put", "IMG", "serial", "SN-1"))
        let before = try SHA256.ofFile(image)
        let members = (1...20).map { "\"key\($0)\": \"value \($0)\"" }.joined(separator: ", ")
        let input = try directory.write("keys.json", "{\(members)}")
        let running = try ToolRunner.Running(
            ["import", image, input], environment: ["FLASHKVS_TEST_PAUSE_AFTER_WRITES": "5"])
        #expect(running.waitForStandardError(containing: "paused after 5 flash writes"), "\(running.standardError)")
        // Half-way: the copy holds some of the keys, the image none.
        #expect(try SHA256.ofFile(image) == before)
        let copies = try leftovers().filter { $0.hasPrefix(".flash.img.flashkvs-") }
        #expect(copies.count == 1)
        running.kill()
        #expect(running.process.terminationReason == .uncaughtSignal)
        #expect(try SHA256.ofFile(image) == before)
        CLIFixtures.expectSuccess(try run("verify", "IMG"))
        #expect(try run("list", "IMG").output == "serial  \"SN-1\"\n")
        // The same import, not interrupted, stores every key.
        CLIFixtures.expectSuccess(try run("import", "IMG", input))
        #expect(try run("list", "IMG", "--json").output.components(separatedBy: "\"key\"").count - 1 == 21)
    }

    @Test("SIGKILL in the middle of an import that creates the image leaves no image")
    func killedMidImportOfANewImageLeavesNoImage() throws {
        let input = try directory.write("keys.json", #"{"a": "1", "b": "2", "c": "3"}"#)
        let running = try ToolRunner.Running(
            ["import", image, input, "--sectors", "4"], environment: ["FLASHKVS_TEST_PAUSE_AFTER_WRITES": "2"])
        #expect(running.waitForStandardError(containing: "paused after 2 flash writes"))
        running.kill()
        #expect(!FileManager.default.fileExists(atPath: image))
    }

    @Test func aReplacedImageKeepsItsPermissionsAndItsSymbolicLink() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: image)
        let link = directory.path("link.img")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: image)
        CLIFixtures.expectSuccess(try ToolRunner.run(["put", link, "b", "2", "--sector-size", "512"]))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == image)
        #expect((try FileManager.default.attributesOfItem(atPath: image)[.posixPermissions] as? Int) == 0o600)
        #expect(try run("get", "IMG", "b", "--sector-size", "512").output == "2")
    }

    @Test func createForceReplacesTheFileWhole() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1])])
        CLIFixtures.expectFailure(try run("create", "IMG", "--sectors", "2", "--sector-size", "512"), .ioError)
        CLIFixtures.expectSuccess(try run("create", "IMG", "--sectors", "2", "--sector-size", "512", "--force"))
        #expect(try directory.read("flash.img") == Data(repeating: 0xFF, count: 1024))
        #expect(try leftovers() == ["flash.img"])
    }
}
