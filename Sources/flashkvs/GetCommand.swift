import ArgumentParser
import FlashKVS
import FlashKVSTools

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the value of a key (raw bytes, or hex with --hex).",
        discussion: "Read-only: the image is opened read-only and never changes.")

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The key.") var key: String
    @Flag(help: "Print the value as hex digits and a newline.") var hex = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let keyBytes = try Arguments.key(key)
        let session = try ImageAccess.openForReading(image, options)
        let value: [UInt8]
        do {
            value = try session.store.value(keyBytes.span)
        } catch {
            throw CLIError.store(error, "get \(displayKey(keyBytes))", image: image, flash: session.flash)
        }
        if hex {
            Output.write(Hex.encode(value) + "\n")
        } else {
            Output.write(bytes: value)
        }
    }
}
