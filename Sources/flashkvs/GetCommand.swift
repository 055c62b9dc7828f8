import ArgumentParser
import FlashKVS
import FlashKVSTools

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the value of a key (raw bytes, or hex with --hex).",
        discussion: """
            The raw bytes go to standard output as they are; in a terminal a line break follows \
            a value that does not end with one. A key whose newest value is corrupt is data loss \
            (status 11), not a missing key; an image holding data that cannot be read with these \
            options fails with status 10 (--partial reads what it can). Read-only: the image is \
            opened read-only and never changes.
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The key, unless --key-hex is given.") var key: String?
    @Option(name: .customLong("key-hex"), help: ArgumentHelp("The key as hex digits (any bytes).", valueName: "hex"))
    var keyHex: String?
    @Flag(help: "Print the value as hex digits and a newline.") var hex = false
    @OptionGroup var partial: PartialOption
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let keyBytes = try Arguments.key(key, hex: keyHex)
        let (session, inspection) = try ImageAccess.openForReading(
            image, options, command: "get", checking: .unreadableData, partial: partial.partial)
        let what = "get \(displayKey(keyBytes))"
        if let corrupt = inspection.keysWithCorruptNewestEntry.first(where: { $0.key == keyBytes }) {
            let entry = corrupt.entry
            let message = "\(what): data loss: the newest value of \(displayKey(keyBytes)) in '\(image)' is corrupt "
                + "(sector \(entry.sector) offset \(entry.offset): \(entry.detail ?? "unreadable")); "
                + (corrupt.olderValueKept ? "an older value is kept" + (partial.partial ? "" : " (--partial prints it)")
                    : "no older value is kept")
                + "; 'flashkvs repair \(image)' drops the corrupt entry"
            guard partial.partial else { throw CLIError(.dataLoss, message) }
            Output.warning(message)
        }
        let value: [UInt8]
        do {
            value = try session.store.value(keyBytes.span)
        } catch {
            var failure = CLIError.store(error, what, image: image, flash: session.flash)
            let unnamed = inspection.entries.count { $0.state == .corrupt && $0.key == nil }
            if error == .notFound && unnamed > 0 {
                failure.message += " (\(counted(unnamed, "corrupt entry", plural: "corrupt entries")) whose key cannot "
                    + "be read might have held it)"
            }
            throw failure
        }
        if hex {
            Output.write(Hex.encode(value) + "\n")
        } else {
            Output.write(bytes: value)
            if Output.standardOutputIsTerminal && value.last != UInt8(ascii: "\n") { Output.write("\n") }
        }
    }
}
