import ArgumentParser
import FlashKVS
import FlashKVSTools

struct PutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Store a value under a key.",
        discussion: """
            The key is KEY (UTF-8 text), or the bytes of --key-hex (then the first argument after \
            the image is the value). The value is VALUE as UTF-8 text, or the bytes of --hex, or \
            the contents of --file (give exactly one). The image is created with the given \
            geometry if it does not exist (--sectors is then required). The image is replaced \
            only when the put succeeds.
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The key (1 to 63 bytes of UTF-8), unless --key-hex is given.") var key: String?
    @Argument(help: "The value as text.") var value: String?
    @Option(name: .customLong("key-hex"), help: ArgumentHelp("The key as hex digits (any bytes).", valueName: "hex"))
    var keyHex: String?
    @Option(help: ArgumentHelp("The value as hex digits.", valueName: "hex")) var hex: String?
    @Option(help: ArgumentHelp("Read the value from a file.", valueName: "path")) var file: String?
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        // With --key-hex, the first argument after the image is the value.
        let (keyText, valueText) = keyHex != nil && value == nil ? (nil, key) : (key, value)
        if keyHex != nil && key != nil && value != nil {
            throw CLIError(.badArgument, "with --key-hex, give the value only (one argument after the image)")
        }
        let keyBytes = try Arguments.key(keyText, hex: keyHex)
        let valueBytes = try valueBytes(valueText)
        try Arguments.checkFits(
            key: keyBytes, value: valueBytes, sectorSize: options.geometry.sectorSize, status: .badArgument)
        let edit = try ImageAccess.edit(image, options, createIfMissing: true)
        do {
            try edit.store.put(keyBytes.span, valueBytes.span)
        } catch {
            throw CLIError.store(error, "put \(displayKey(keyBytes))", image: image, flash: edit.flash)
        }
        try edit.finish()
    }

    private func valueBytes(_ value: String?) throws(CLIError) -> [UInt8] {
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
