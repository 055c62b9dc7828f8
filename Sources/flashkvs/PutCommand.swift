import ArgumentParser
import FlashKVS
import FlashKVSTools

struct PutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Store a value under a key.",
        discussion: """
            The value is VALUE as UTF-8 text, or the bytes of --hex, or the contents of \
            --file (give exactly one). The image is created with the given geometry if it \
            does not exist (--sectors is then required).
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The key (1 to 63 bytes of UTF-8).") var key: String
    @Argument(help: "The value as text.") var value: String?
    @Option(help: ArgumentHelp("The value as hex digits.", valueName: "hex")) var hex: String?
    @Option(help: ArgumentHelp("Read the value from a file.", valueName: "path")) var file: String?
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let keyBytes = try Arguments.key(key)
        let valueBytes = try valueBytes()
        let session = try ImageAccess.openForWriting(image, options, createIfMissing: true)
        defer { try? session.flash.flush() }
        do {
            try session.store.put(keyBytes.span, valueBytes.span)
        } catch {
            throw CLIError.store(error, "put \(displayKey(keyBytes))", image: image, flash: session.flash)
        }
        try ImageAccess.close(session)
    }

    private func valueBytes() throws(CLIError) -> [UInt8] {
        let given = [value != nil, hex != nil, file != nil].count { $0 }
        guard given == 1 else {
            throw CLIError(.badArgument, given == 0
                ? "put needs a value: VALUE, --hex HEX or --file PATH"
                : "put takes one value: VALUE, --hex HEX or --file PATH, not several")
        }
        if let value { return Array(value.utf8) }
        if let hex {
            do { return try Hex.decode(hex) } catch { throw CLIError(.badArgument, "--hex: \(error)") }
        }
        return try Arguments.readFile(file!)
    }
}

/// Checks shared by several commands.
enum Arguments {
    /// The UTF-8 bytes of a key given on the command line.
    /// - Throws: `.badArgument` unless 1...63 bytes.
    static func key(_ key: String) throws(CLIError) -> [UInt8] {
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= EntryHeader.maxKeyLength else {
            throw CLIError(.badArgument, "key \(displayKey(bytes)) is \(bytes.count) bytes; keys are 1 to "
                + "\(EntryHeader.maxKeyLength) bytes")
        }
        return bytes
    }

    /// The contents of an input file.
    /// - Throws: `.ioError`.
    static func readFile(_ path: String) throws(CLIError) -> [UInt8] {
        do { return try FileAccess.read(path) } catch { throw CLIError(.ioError, error.description) }
    }

    /// Writes an output file.
    static func writeFile(_ text: String, to path: String) throws(CLIError) {
        do { try FileAccess.write(Array(text.utf8), to: path) } catch { throw CLIError(.ioError, error.description) }
    }
}
