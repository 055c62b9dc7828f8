import ArgumentParser
import FlashKVSTools

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an erased image (every byte 0xFF).",
        discussion: "--sectors is required. An existing file is left alone unless --force is given.")

    @Argument(help: "The image file to create.") var image: String
    @OptionGroup var options: ImageOptions
    @Flag(help: "Overwrite an existing file.") var force = false

    func run() throws(CLIError) {
        guard options.sectorCount != nil else { throw CLIError(.badArgument, "create needs --sectors N") }
        let flash = try ImageAccess.create(image, options, overwrite: force)
        do { try flash.close() } catch { throw CLIError.file(error) }
        Output.write("created '\(image)': \(flash.sectorCount) sectors x \(flash.sectorSize) bytes "
            + "(\(flash.size) bytes, erased)\n")
    }
}
