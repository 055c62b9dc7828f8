import ArgumentParser
import FlashKVS
import FlashKVSTools

struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map", abstract: "Draw the partition: one bar per sector (live, stale, corrupt, free).",
        discussion: """
            Colored in a terminal, plain ASCII when piped (or --color never, or NO_COLOR set). \
            --svg also writes the picture as an SVG file for reports. Erase counts are shown \
            where known: pw_kvs keeps none on flash (maintain --map and repair --map show this \
            run's). Read-only.
            """)

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

    @Argument(help: "The image file.") var image: String
    @Option(help: ArgumentHelp("Also write the map as SVG to this file.", valueName: "path")) var svg: String?
    @Option(help: "Colors: auto (when standard output is a terminal), always or never.") var color: ColorChoice = .auto
    @Option(parsing: .unconditional, help: ArgumentHelp("Cells per sector bar.", valueName: "n")) var width: Int = 64
    @OptionGroup var options: ImageOptions

    func validate() throws {
        guard (1...1024).contains(width) else { throw ValidationError("--width \(width) is out of range: 1...1024") }
    }

    func run() throws(CLIError) {
        let (flash, configuration) = try ImageAccess.openFlash(image, options)
        let inspection = try ImageAccess.inspect(flash, configuration, path: image)
        let colored = color == .always || (color == .auto && Output.standardOutputTakesColor)
        Output.write(SectorMap.text(inspection, title: image, style: colored ? .ansi : .plain, width: width))
        if let svg {
            try Arguments.writeFile(Array(SectorMap.svg(inspection, title: image).utf8), to: svg)
            Output.write("wrote the SVG map to '\(svg)'\n")
        }
    }
}
