import FlashKVSTools
import Foundation
import Testing

/// The documents a newcomer pastes from: they must work as written, and
/// say the same thing where they give the same figure.
@Suite("Docs that can be pasted, and one source for figures")
struct DocsTests {
    static func document(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: PackagePaths.root.appendingPathComponent(path)), as: UTF8.self)
    }

    /// The folder holding the built products (the flashkvs binary, Modules/, FlashKVS.build/).
    static var productsFolder: URL? { ToolRunner.binary?.deletingLastPathComponent() }

    static func executable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// A compiler and the built core module: the snippet test needs both.
    static var canCompileAgainstTheCore: Bool {
        guard executable("swiftc") != nil, let products = productsFolder else { return false }
        return FileManager.default.fileExists(atPath: products.appendingPathComponent("Modules/FlashKVS.swiftmodule").path)
    }

    /// Runs a program; returns its status and its output (stdout and stderr together).
    static func run(_ executable: URL, _ arguments: [String], in directory: URL) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("flashkvs-docs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: log) }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: log), as: UTF8.self))
    }

    @Test("README 'Using the store' compiles as main.swift and runs", .enabled(if: canCompileAgainstTheCore))
    func readmeSnippetCompilesAsTopLevelCode() throws {
        let readme = try Self.document("README.md")
        let section = try #require(readme.range(of: "## Using the store"))
        let rest = readme[section.upperBound...]
        let start = try #require(rest.range(of: "```swift\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        let snippet = String(rest[start.upperBound..<end.lowerBound])
        #expect(snippet.contains("import FlashKVS"))

        let directory = try TemporaryDirectory()
        try directory.write("main.swift", snippet)
        let products = try #require(Self.productsFolder)
        let objects = try FileManager.default.contentsOfDirectory(
            at: products.appendingPathComponent("FlashKVS.build"), includingPropertiesForKeys: nil
        ).filter { $0.pathExtension == "o" }.map(\.path)
        let (status, output) = try Self.run(
            try #require(Self.executable("swiftc")),
            ["-swift-version", "6", "-I", products.appendingPathComponent("Modules").path, "main.swift"] + objects
                + ["-o", "snippet"],
            in: directory.url)
        #expect(status == 0, "the README snippet does not compile as main.swift:\n\(output)")
        guard status == 0 else { return }
        let (runStatus, runOutput) = try Self.run(directory.url.appendingPathComponent("snippet"), [], in: directory.url)
        #expect(runStatus == 0, "the README snippet fails when run:\n\(runOutput)")
    }

    @Test("PORTING.md's build command lists every core source file in plain bash")
    func portingBuildCommandWorksInPlainBash() throws {
        let porting = try Self.document("Docs/PORTING.md")
        let lines = porting.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = try #require(lines.firstIndex { $0.hasPrefix("    swiftc ") })
        var command = ""
        for line in lines[first...] {
            command += line.trimmingCharacters(in: .whitespaces)
            guard command.hasSuffix("\\") else { break }
            command.removeLast()
            command += " "
        }
        #expect(!command.contains("**"), "globstar is off in plain bash: \(command)")
        // The command as bash runs it, with swiftc replaced by a function printing its arguments.
        let bash = try #require(Self.executable("bash"))
        let (status, output) = try Self.run(
            bash, ["--norc", "--noprofile", "-c", "swiftc() { printf '%s\\n' \"$@\"; }; " + command],
            in: PackagePaths.root)
        #expect(status == 0, "\(output)")
        let listed = output.split(separator: "\n").filter { $0.hasSuffix(".swift") }.map(String.init).sorted()
        let core = PackagePaths.root.appendingPathComponent("Sources/FlashKVS")
        let enumerator = try #require(FileManager.default.enumerator(atPath: core.path))
        let expected = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            .map { "Sources/FlashKVS/" + $0 }.sorted()
        #expect(!expected.isEmpty)
        #expect(listed == expected)
    }

    /// The footprint figures as Docs/EMBEDDED.md's table of the script's output gives them.
    struct Figures {
        var allocations: Int
        var ram64: Int
        var ram50: Int
        /// initialize, put, get, delete.
        var stack: [Int]

        init(embedded: String) throws {
            func number(_ pattern: Regex<(Substring, Substring)>) throws -> Int {
                let match = try #require(embedded.firstMatch(of: pattern), "EMBEDDED.md lacks \(pattern)")
                return try #require(Int(match.1))
            }
            ram64 = try number(/\| RAM, 64 keys, 8 sectors, redundancy 2 \| (\d+) B requested/)
            ram50 = try number(/\| RAM, 50 keys, 8 sectors, redundancy 2 \| (\d+) B requested/)
            allocations = try number(/\| RAM, 64 keys, 8 sectors, redundancy 2 \| \d+ B requested in (\d+) allocations/)
            let stack = try #require(embedded.firstMatch(
                of: /\| stack, deepest[^|]*\| initialize (\d+) B, put (\d+) B, get (\d+) B, delete (\d+) B/))
            self.stack = [stack.1, stack.2, stack.3, stack.4].compactMap { Int($0) }
        }
    }

    static let numberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

    @Test("PORTING.md, EMBEDDED.md and the README give the measured figures alike")
    func footprintFiguresAgreeAcrossTheDocs() throws {
        let embedded = try Self.document("Docs/EMBEDDED.md")
        let figures = try Figures(embedded: embedded)
        #expect(figures.stack.count == 4)
        let porting = try Self.document("Docs/PORTING.md")
        let readme = try Self.document("README.md")

        // Allocation counts, in digits or words, wherever a page states one.
        for (name, text) in [("PORTING.md", porting), ("EMBEDDED.md", embedded)] {
            for match in text.matches(of: /\bin (\w+)\s+allocations/) {
                let said = Int(match.1) ?? Self.numberWords.firstIndex(of: String(match.1).lowercased())
                #expect(said == figures.allocations, "\(name) says '\(match.0)'; the measurement is \(figures.allocations)")
            }
        }
        #expect(porting.contains("\(figures.ram64) bytes for 64 keys"))
        #expect(porting.contains("\(figures.stack[0]) bytes in `initialize`"))
        #expect(porting.contains("\(figures.stack[1]) bytes in `put`"))
        for match in porting.matches(of: /(\d+) bytes in `(\w+)`/) {
            let index = try #require(["initialize", "put", "get", "delete"].firstIndex(of: String(match.2)))
            #expect(Int(match.1) == figures.stack[index], "PORTING.md says '\(match.0)'")
        }
        let stackLine = figures.stack.map(String.init).joined(separator: " / ") + " B"
        #expect(embedded.contains("**\(stackLine)**"), "EMBEDDED.md's summary table: \(stackLine)")
        #expect(embedded.contains("**\(figures.ram64) B**") && embedded.contains("**\(figures.ram50) B**"))
        #expect(readme.contains(stackLine), "README: \(stackLine)")
        #expect(readme.contains("| \(figures.ram64) B |") && readme.contains("| \(figures.ram50) B |"))
    }

    @Test("LICENSE holds the Apache-2.0 text; CHANGELOG's newest version is --version's")
    func licenseAndChangelogMatchTheTool() throws {
        let license = try Self.document("LICENSE")
        #expect(license.contains("Apache License") && license.contains("Version 2.0, January 2004"))
        #expect(license.contains("END OF TERMS AND CONDITIONS") && license.contains("APPENDIX: How to apply"))
        let changelog = try Self.document("CHANGELOG.md")
        let newest = try #require(changelog.firstMatch(of: /\n## \[?(\d+\.\d+\.\d+)\]?/))
        #expect(String(newest.1) == ToolVersion.current)
        let result = try ToolRunner.run(["--version"])
        CLIFixtures.expectSuccess(result)
        #expect(result.output == ToolVersion.current + "\n")
    }
}
