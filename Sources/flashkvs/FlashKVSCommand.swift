import ArgumentParser
import FlashKVSTools

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `flashkvs` command: create, edit, inspect, verify and repair
/// pw_kvs flash images.
struct FlashKVSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashkvs",
        abstract: "Create, edit, inspect, verify and repair pw_kvs flash images.",
        discussion: """
            An image file is a NOR flash memory: sector size x sectors bytes, erased bytes \
            0xFF. Every command that opens an image takes the geometry and store options \
            (--sector-size, --sectors, --alignment, --magic, --checksum, --redundancy, \
            --max-entries); they must match the ones the image was written with. \
            Read-only commands (get, list, export, dump, verify, stats, map) never change \
            a byte of the image; get, list, export and stats fail (status 10 or 11) rather than \
            give an incomplete answer, unless --partial. Writing commands work on a copy that \
            replaces the image only when they succeed: a failed or killed command leaves it \
            byte-identical.

            Exit status:
            \(ToolExitStatus.table)
            """,
        version: ToolVersion.current,
        subcommands: [
            CreateCommand.self, PutCommand.self, GetCommand.self, DeleteCommand.self, ListCommand.self,
            ApplyCommand.self, ImportCommand.self, ExportCommand.self, DumpCommand.self, VerifyCommand.self,
            RepairCommand.self, MaintainCommand.self, StatsCommand.self, MapCommand.self,
        ])
}

@main
enum FlashKVSMain {
    static func main() {
        let names = FlashKVSCommand.configuration.subcommands.map { $0.configuration.commandName ?? "" }
        if let failure = Arguments.checkCommandLine(subcommands: names) {
            Output.error(failure.message)
            exit(failure.status.rawValue)
        }
        do {
            var command = try FlashKVSCommand.parseAsRoot()
            try command.run()
            Progress.clear()
        } catch let error as CLIError {
            Output.error(error.message)
            exit(error.status.rawValue)
        } catch {
            if FlashKVSCommand.exitCode(for: error) == .success { FlashKVSCommand.exit(withError: error) }
            let message = FlashKVSCommand.message(for: error).split(separator: "\n").joined(separator: "; ")
            Output.error("\(message) (see 'flashkvs --help')")
            exit(ToolExitStatus.badArgument.rawValue)
        }
    }
}
