import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

/// Issue 20, point 7: partitions inside whole-chip dumps, and images for
/// flash programmers (Intel HEX, raw binary).
@Suite("Whole-chip dumps and flashing tools")
struct FlashDumpTests: ImageSuite {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    /// A chip dump: 1000 bytes of other data, the partition (4 x 512 bytes), 700 bytes of other data.
    func makeDump() throws -> (path: String, before: Data, after: Data) {
        try CLIFixtures.makeImage(image, items: [("serial", Array("SN-7".utf8)), ("mode", [2])])
        let before = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let after = Data((0..<700).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        let path = try directory.write("chip.bin", before + (try directory.read("flash.img")) + after)
        return (path, before, after)
    }

    @Test func offsetOpensAPartitionInsideADump() throws {
        let dump = try makeDump()
        let flags = ["--offset", "1000", "--sectors", "4", "--sector-size", "512"]
        let list = try ToolRunner.run(["list", dump.path] + flags)
        CLIFixtures.expectSuccess(list)
        #expect(list.output == "serial  \"SN-7\"\nmode    hex:02\n")
        CLIFixtures.expectSuccess(try ToolRunner.run(["verify", dump.path] + flags))
        // Hex offsets too; writes land inside the partition only.
        let hexFlags = ["--offset", "0x3e8", "--sectors", "4", "--sector-size", "512"]
        CLIFixtures.expectSuccess(try ToolRunner.run(["put", dump.path, "mode", "3"] + hexFlags))
        #expect(try ToolRunner.run(["get", dump.path, "mode"] + hexFlags).output == "3")
        let bytes = try directory.read("chip.bin")
        #expect(bytes.count == 1000 + 2048 + 700)
        #expect(bytes.prefix(1000) == dump.before && bytes.suffix(700) == dump.after)
        // The partition as a file of its own, and back.
        let partition = directory.path("partition.img")
        CLIFixtures.expectSuccess(try ToolRunner.run(["export", dump.path, "--format", "bin", "-o", partition] + flags))
        #expect(try directory.read("partition.img") == bytes.dropFirst(1000).prefix(2048))
        #expect(try ToolRunner.run(["get", partition, "mode", "--sector-size", "512"]).output == "3")
    }

    @Test func anOffsetNeedsSectorsAndAPartitionInsideTheFile() throws {
        let dump = try makeDump()
        CLIFixtures.expectFailure(try ToolRunner.run(["list", dump.path, "--offset", "1000", "--sector-size", "512"]),
                                  .badArgument, containing: "--offset needs --sectors")
        CLIFixtures.expectFailure(
            try ToolRunner.run(["list", dump.path, "--offset", "2000", "--sectors", "4", "--sector-size", "512"]),
            .configurationMismatch, containing: "ends at byte 4048")
        CLIFixtures.expectFailure(try ToolRunner.run(["put", directory.path("new.bin"), "a", "1", "--offset", "0",
                                                      "--sectors", "4", "--sector-size", "512"]), .ioError)
    }

    /// The bytes an Intel HEX text describes, checking each record's checksum.
    static func decodeIntelHex(_ text: String) throws -> [UInt64: UInt8] {
        var memory: [UInt64: UInt8] = [:]
        var upper: UInt64 = 0
        var ended = false
        for line in text.split(separator: "\n") {
            #expect(!ended, "a record after the end-of-file record")
            #expect(line.first == ":")
            let bytes = try Hex.decode(String(line.dropFirst()))
            #expect(bytes.reduce(0) { $0 &+ $1 } == 0, "checksum of \(line)")
            let count = Int(bytes[0])
            #expect(bytes.count == count + 5)
            let address = UInt64(bytes[1]) << 8 | UInt64(bytes[2])
            let data = bytes[4..<(4 + count)]
            switch bytes[3] {
            case 0x00: for (index, byte) in data.enumerated() { memory[upper + address + UInt64(index)] = byte }
            case 0x04: upper = (UInt64(data[data.startIndex]) << 8 | UInt64(data[data.startIndex + 1])) << 16
            case 0x01: ended = true
            default: Issue.record("unexpected record type \(bytes[3])")
            }
        }
        #expect(ended)
        return memory
    }

    @Test func intelHexPlacesEveryByteAtTheBaseAddress() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1, 2, 3])])
        // A base just below a 64 KiB boundary: records must not cross it.
        let result = try ToolRunner.run(["export", image, "--format", "ihex", "--base", "0x0800FF00", "--sector-size", "512"])
        CLIFixtures.expectSuccess(result)
        let memory = try Self.decodeIntelHex(result.output)
        let bytes = [UInt8](try directory.read("flash.img"))
        #expect(memory.count == bytes.count)
        #expect(bytes.indices.allSatisfy { memory[0x0800_FF00 + UInt64($0)] == bytes[$0] })
        #expect(result.output.hasPrefix(":020000040800F2\n"))
        #expect(result.output.contains(":020000040801F1\n"))
        #expect(result.output.hasSuffix(":00000001FF\n"))
        CLIFixtures.expectFailure(
            try ToolRunner.run(["export", image, "--format", "ihex", "--base", "0xFFFFFF00", "--sector-size", "512"]),
            .badArgument, containing: "32-bit")
        CLIFixtures.expectFailure(try ToolRunner.run(["export", image, "--base", "0", "--sector-size", "512"]),
                                  .badArgument, containing: "--base is for --format ihex")
    }

    @Test func binaryExportIsTheImage() throws {
        try CLIFixtures.makeImage(image, items: [("a", [1, 2, 3])])
        let result = try ToolRunner.run(["export", image, "--format", "bin", "--sector-size", "512"])
        CLIFixtures.expectSuccess(result)
        #expect(result.standardOutput == (try directory.read("flash.img")))
        let terminal = try ToolRunner.runInTerminal(
            ["export", image, "--format", "bin", "--sector-size", "512"], standardOutput: true, standardError: false)
        #expect(terminal.status == ToolExitStatus.badArgument.rawValue)
        #expect(terminal.standardError.contains("-o FILE"))
    }
}
