import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the live keys as the JSON that import reads.",
        discussion: """
            One object in iteration order: text values (UTF-8 without control characters other \
            than tab and line breaks) as strings, others as {"hex": "..."}. Read-only.
            """)

    @Argument(help: "The image file.") var image: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let session = try ImageAccess.openForReading(image, options)
        let text: String
        do {
            text = try ProvisioningFile.export(try session.store.contents())
        } catch let error as TextFormatError {
            throw CLIError(.badArgument, "cannot export '\(image)': \(error)")
        } catch let error as KVSError {
            throw CLIError.store(error, "exporting '\(image)'", image: image, flash: session.flash)
        } catch {
            throw CLIError(.internalError, "\(error)")
        }
        if let output {
            try Arguments.writeFile(text, to: output)
        } else {
            Output.write(text)
        }
    }
}
