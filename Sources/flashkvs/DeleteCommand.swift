import ArgumentParser
import FlashKVS
import FlashKVSTools

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a key (writes a tombstone entry).")

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The key.") var key: String
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let keyBytes = try Arguments.key(key)
        let session = try ImageAccess.openForWriting(image, options, createIfMissing: false)
        defer { try? session.flash.flush() }
        do {
            try session.store.delete(keyBytes.span)
        } catch {
            throw CLIError.store(error, "delete \(displayKey(keyBytes))", image: image, flash: session.flash)
        }
        try ImageAccess.close(session)
    }
}
