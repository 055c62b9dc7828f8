import Foundation
import Testing

/// The five-minute tours of Docs/CLI.md and the README, run as written:
/// every command's output must be the one shown (a `...` line stands for
/// lines left out).
@Suite("The documented tours print what they show")
struct TourTests {
    struct Step {
        var command: String
        var expected: [String]
    }

    /// The `$ ` commands of the first tour in `document` after its setup
    /// (build, PATH, temporary folder), with the lines shown after each.
    static func steps(_ document: String, after heading: String) throws -> [Step] {
        let start = try #require(document.range(of: heading))
        var steps: [Step] = []
        var inBlock = false
        for line in document[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("    ") else {
                inBlock = false
                continue
            }
            let text = String(line.dropFirst(4))
            if text.hasPrefix("$ ") {
                steps.append(Step(command: String(text.dropFirst(2)), expected: []))
                inBlock = true
            } else if inBlock, !steps.isEmpty {
                steps[steps.count - 1].expected.append(text)
            }
        }
        let setup = ["swift build", "export PATH=", "cd "]
        return steps.filter { step in !setup.contains { step.command.hasPrefix($0) } }
    }

    /// Whether `actual` is `expected`, where a `...` line of `expected` matches any lines.
    static func matches(_ actual: [String], _ expected: [String]) -> Bool {
        guard let first = expected.first else { return actual.isEmpty }
        if first.trimmingCharacters(in: .whitespaces) == "..." {
            return (0...actual.count).contains { matches(Array(actual[$0...]), Array(expected.dropFirst())) }
        }
        return actual.first == first && matches(Array(actual.dropFirst()), Array(expected.dropFirst()))
    }

    @Test("Docs/CLI.md and README tours", arguments: [
        ("Docs/CLI.md", "## A five-minute tour"), ("README.md", "## The `flashkvs` tool"),
    ])
    func tourPrintsWhatItShows(_ document: String, _ heading: String) throws {
        let binary = try #require(ToolRunner.binary)
        let text = String(decoding: try Data(contentsOf: PackagePaths.root.appendingPathComponent(document)), as: UTF8.self)
        let steps = try Self.steps(text, after: heading)
        #expect(steps.count >= 10)
        let directory = try TemporaryDirectory()
        let marker = "--- step output ---"
        var script = "export PATH=\"\(binary.deletingLastPathComponent().path):$PATH\"\nexport NO_COLOR=1\n"
        // Each command's output, then the marker on a line of its own; `$?` still is the command's status.
        for step in steps { script += "{ \(step.command); } 2>&1; s=$?; printf '\\n\(marker)\\n'; (exit $s)\n" }
        try directory.write("tour.sh", script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["--norc", "--noprofile", "tour.sh"]
        process.currentDirectoryURL = directory.url
        let output = directory.url.appendingPathComponent("output")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let printed = String(decoding: try Data(contentsOf: output), as: UTF8.self)
            .components(separatedBy: marker + "\n").dropLast()
        #expect(printed.count == steps.count)
        for (step, actual) in zip(steps, printed) {
            // The marker's line break, and the output's own last one if it has one (a terminal shows a value
            // without one, as `get` prints it there, on a line of its own).
            var lines = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
            if lines.last == "" { lines = lines.dropLast() }
            #expect(Self.matches(Array(lines), step.expected), "\(document): $ \(step.command)\n\(actual)")
        }
    }
}
