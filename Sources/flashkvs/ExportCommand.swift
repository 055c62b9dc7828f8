import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the live keys as the JSON that import reads, or the image for a programmer.",
        discussion: """
            json (default): one object in iteration order: text values (UTF-8 without control \
            characters other than tab and line breaks) as strings, others as {"hex": "..."}; \
            when a key is not UTF-8, the records form instead: [{"key" or "key_hex", "value" or \
            "value_hex"}]. Fails with status 10 when the image holds data that cannot be read \
            with these options, 11 when values are corrupt (--partial exports the rest).
            ihex: the image's bytes (the partition's, with --offset) as Intel HEX at address \
            --base (default 0), every byte included. bin: the same bytes, raw (to a file or a pipe).
            Read-only.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, ihex, bin }

    @Argument(help: "The image file.") var image: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?
    @Option(help: "json (the keys), ihex (Intel HEX of the image) or bin (the image's raw bytes).")
    var format: Format = .json
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "ihex: the address of the partition's first byte on the device (decimal or 0x hex).", valueName: "address"))
    var base: NumberArgument?
    @OptionGroup var partial: PartialOption
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        if base != nil && format != .ihex { throw CLIError(.badArgument, "--base is for --format ihex") }
        let bytes: [UInt8]
        switch format {
        case .json:
            let (session, _) = try ImageAccess.openForReading(
                image, options, command: "export", checking: .unreadableDataAndDataLoss, partial: partial.partial)
            do {
                bytes = Array(ProvisioningFile.export(try session.store.contents()).utf8)
            } catch {
                throw CLIError.store(error, "exporting '\(image)'", image: image, flash: session.flash)
            }
        case .ihex, .bin:
            if format == .bin && output == nil && Output.standardOutputIsTerminal {
                throw CLIError(.badArgument, "export --format bin writes binary: give -o FILE or redirect standard output")
            }
            let (flash, _) = try ImageAccess.openFlash(image, options)
            var raw = [UInt8](repeating: 0, count: flash.size)
            do {
                var span = raw.mutableSpan
                try flash.read(at: 0, into: &span)
            } catch {
                throw CLIError.store(error, "reading '\(image)'", image: image, flash: flash)
            }
            Progress.clear()
            if format == .bin {
                bytes = raw
            } else {
                do { bytes = Array(try IntelHex.encode(raw, base: base?.value ?? 0).utf8) } catch {
                    throw CLIError(.badArgument, error.message)
                }
            }
        }
        if let output {
            try Arguments.writeFile(bytes, to: output)
        } else {
            Output.write(bytes: bytes)
        }
    }
}
