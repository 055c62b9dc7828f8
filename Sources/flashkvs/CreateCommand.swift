import ArgumentParser
import FlashKVSTools

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an erased image (every byte 0xFF).",
        discussion: """
            --sectors is required. An existing file is left alone unless --force is given; \
            then it is replaced whole (a new file renamed over it). The store options of the \
            other commands are accepted and checked, so that one set of options serves every \
            command, but an erased image does not depend on them.
            """)

    @Argument(help: "The image file to create.") var image: String
    @OptionGroup var geometry: GeometryOptions
    /// Not used by create (an erased image has no format), but accepted,
    /// unlisted, so that one set of flags serves every command.
    @OptionGroup(visibility: .hidden) var format: FormatOptions
    @Flag(help: "Overwrite an existing file.") var force = false

    func run() throws(CLIError) {
        guard let sectorCount = geometry.sectorCount else { throw CLIError(.badArgument, "create needs --sectors N") }
        _ = try format.configuration(geometry)
        if FileAccess.exists(image) && !force { throw CLIError.file(.alreadyExists(path: image)) }
        let shape = FlashGeometry(sectorSize: geometry.sectorSize, sectorCount: sectorCount, alignment: geometry.alignment)
        do { try ImageUpdate.replace(image, withErased: shape) } catch { throw CLIError.file(error) }
        Output.write("created '\(image)': \(counted(sectorCount, "sector")) x \(geometry.sectorSize) bytes "
            + "(\(shape.byteCount) bytes, erased)\n")
    }
}
