import FlashKVSTools
import Foundation
import Testing

@Suite("Help and documentation of the exit statuses")
struct HelpTests {
    static let commands = ["create", "put", "get", "delete", "list", "apply", "import", "export", "dump", "verify",
                           "repair", "maintain", "stats", "map"]

    @Test("--help for every command", arguments: commands)
    func everyCommandHasHelp(_ command: String) throws {
        let result = try ToolRunner.run([command, "--help"])
        CLIFixtures.expectSuccess(result)
        #expect(result.output.contains("USAGE: flashkvs \(command)"))
        #expect(result.output.contains("OVERVIEW:"))
        #expect(result.output.contains("--sector-size"))
    }

    @Test func theMainHelpListsCommandsAndEveryExitStatus() throws {
        let result = try ToolRunner.run(["--help"])
        CLIFixtures.expectSuccess(result)
        for command in Self.commands { #expect(result.output.contains("  \(command)"), "\(command)") }
        let flattened = result.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for status in ToolExitStatus.allCases {
            #expect(flattened.contains("\(status.rawValue) \(status.summary)"), "status \(status.rawValue)")
        }
    }

    @Test func docsCLIDocumentsEveryExitStatus() throws {
        let docs = String(decoding: try Data(contentsOf: PackagePaths.root.appendingPathComponent("Docs/CLI.md")), as: UTF8.self)
        for status in ToolExitStatus.allCases {
            #expect(docs.contains("| \(status.rawValue) | \(status.summary) |"), "status \(status.rawValue)")
        }
        for command in Self.commands { #expect(docs.contains("flashkvs \(command)"), "\(command)") }
    }
}
