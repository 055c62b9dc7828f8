/// A suite whose tests each work on `flash.img` in a fresh folder and run
/// the tool with `IMG` standing for its path.
protocol ImageSuite {
    var directory: TemporaryDirectory { get }
    /// Options added to every run (the small sector size of some suites).
    static var flags: [String] { get }
}

extension ImageSuite {
    static var flags: [String] { [] }

    /// The image's path.
    var image: String { directory.path("flash.img") }

    /// Runs `flashkvs ARGUMENTS FLAGS`, `IMG` replaced by the image's path.
    func run(_ arguments: String...) throws -> ToolResult { try run(arguments) }

    func run(_ arguments: [String]) throws -> ToolResult { try ToolRunner.run(arguments + Self.flags, image: image) }
}
