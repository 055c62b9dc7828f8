import FlashKVS
import FlashKVSTools
import Foundation
import Testing

/// Images and checks shared by the command-line suites.
enum CLIFixtures {
    /// Small images keep the suites fast: 4 sectors of 512 bytes.
    static let geometry = ["--sector-size", "512"]

    /// Writes an image of `sectors` x 512 bytes holding `items`, in order,
    /// through the library (not the tool under test).
    static func makeImage(
        _ path: String, sectors: Int = 4, items: [(String, [UInt8])], maxEntries: Int? = nil
    ) throws {
        let flash = try FileFlash.create(at: path, geometry: FlashGeometry(sectorSize: 512, sectorCount: sectors, alignment: 16))
        let session = try StoreSession(
            flash: flash, configuration: StoreConfiguration(sectorSize: 512, maxEntries: maxEntries), writable: true)
        for (key, value) in items { try session.store.put(key, value) }
        try flash.close()
    }

    /// Flips the bits of the byte at `offset` of a file.
    static func flipByte(_ path: String, at offset: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The parsed JSON of a run's standard output.
    static func json(_ result: ToolResult) throws -> Any {
        try JSONSerialization.jsonObject(with: result.standardOutput, options: [.fragmentsAllowed])
    }

    /// Expects a failure: the documented status, one `flashkvs: error:`
    /// line on standard error containing `text`, and no crash.
    static func expectFailure(
        _ result: ToolResult, _ status: ToolExitStatus, containing text: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.exitedNormally, "crashed", sourceLocation: sourceLocation)
        #expect(result.status == status.rawValue, "stderr: \(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "stderr: \(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.hasPrefix("flashkvs: error: "), sourceLocation: sourceLocation)
        if !text.isEmpty {
            #expect(result.standardError.contains(text), "stderr: \(result.standardError)", sourceLocation: sourceLocation)
        }
    }

    /// Expects success with nothing on standard error.
    static func expectSuccess(_ result: ToolResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.exitedNormally && result.status == 0, "status \(result.status), stderr: \(result.standardError)",
                sourceLocation: sourceLocation)
        #expect(result.standardError.isEmpty, "stderr: \(result.standardError)", sourceLocation: sourceLocation)
    }
}
