import ArgumentParser
import FlashKVS
import FlashKVSTools

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a key (writes a tombstone entry).",
        discussion: "The image is replaced only when the delete succeeds.")

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The key, unless --key-hex is given.") var key: String?
    @Option(name: .customLong("key-hex"), help: ArgumentHelp("The key as hex digits (any bytes).", valueName: "hex"))
    var keyHex: String?
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let keyBytes = try Arguments.key(key, hex: keyHex)
        let edit = try ImageAccess.edit(image, options, createIfMissing: false)
        do {
            try edit.store.delete(keyBytes.span)
        } catch {
            throw CLIError.store(error, "delete \(displayKey(keyBytes))", image: image, flash: edit.flash)
        }
        try edit.finish()
    }
}
