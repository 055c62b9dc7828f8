import Foundation
import Testing

/// What one run of the `flashkvs` executable produced.
struct ToolResult {
    var status: Int32
    /// False when the process died from a signal (a crash).
    var exitedNormally: Bool
    var standardOutput: Data
    var standardError: String

    var output: String { String(decoding: standardOutput, as: UTF8.self) }
    var errorLines: [Substring] { standardError.split(separator: "\n") }
}

/// Runs the built `flashkvs` executable as a subprocess.
///
/// The binary is found, in order: `$FLASHKVS_BINARY`; next to the running
/// test executable (SwiftPM puts test bundles and executables in one
/// products folder); beside an `.xctest` bundle (macOS); in the package's
/// `.build*/debug` folders (the newest).
enum ToolRunner {
    static let binary: URL? = locateBinary()

    /// Runs `flashkvs ARGUMENTS` with every argument "IMG" replaced by the
    /// path `image` (the tests write commands as they appear in the docs).
    static func run(_ arguments: [String], image: String) throws -> ToolResult {
        try run(arguments.map { $0 == "IMG" ? image : $0 })
    }

    /// Runs `flashkvs ARGUMENTS` in `directory` with empty standard input;
    /// standard output and error go through files (no pipe deadlock).
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:])
        throws -> ToolResult
    {
        let binary = try #require(binary, "the flashkvs executable was not found next to the tests; run swift build")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flashkvs-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("stdout")
        let errorURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let error = try FileHandle(forWritingTo: errorURL)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var variables = ProcessInfo.processInfo.environment
        variables.removeValue(forKey: "NO_COLOR")
        for (name, value) in environment { variables[name] = value }
        process.environment = variables
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = error
        try process.run()
        process.waitUntilExit()
        try output.close()
        try error.close()
        return ToolResult(
            status: process.terminationStatus, exitedNormally: process.terminationReason == .exit,
            standardOutput: try Data(contentsOf: outputURL),
            standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
    }

    private static func locateBinary() -> URL? {
        let fileManager = FileManager.default
        func executable(in directory: URL) -> URL? {
            let candidate = directory.appendingPathComponent("flashkvs")
            return fileManager.isExecutableFile(atPath: candidate.path) ? candidate : nil
        }
        if let path = ProcessInfo.processInfo.environment["FLASHKVS_BINARY"], fileManager.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        var running: [URL] = []
        if let executable = Bundle.main.executableURL { running.append(executable) }
        if let link = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            running.append(URL(fileURLWithPath: link))
        }
        running.append(URL(fileURLWithPath: CommandLine.arguments[0]))
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            running.append(bundle.bundleURL)
        }
        for url in running {
            // Walk up out of an .xctest bundle (macOS: Foo.xctest/Contents/MacOS/Foo).
            var directory = url.deletingLastPathComponent()
            for _ in 0..<4 {
                if let found = executable(in: directory) { return found }
                directory = directory.deletingLastPathComponent()
            }
        }
        let buildFolders = (try? fileManager.contentsOfDirectory(at: PackagePaths.root, includingPropertiesForKeys: nil))?
            .filter { $0.lastPathComponent.hasPrefix(".build") } ?? []
        let candidates = buildFolders.compactMap { executable(in: $0.appendingPathComponent("debug")) }
        return candidates.max { modificationDate($0) < modificationDate($1) }
    }

    private static func modificationDate(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }
}

/// Folders of the package and its neighbours, computed from this file.
enum PackagePaths {
    /// The package root (this file is Tests/FlashKVSToolsTests/Support/ToolRunner.swift).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `../shared` beside the package: the reference images and spec.
    static let shared: URL = root.deletingLastPathComponent().appendingPathComponent("shared")
    static let compat: URL = shared.appendingPathComponent("compat")
    /// Whether the reference compatibility images are there.
    static let compatAvailable: Bool =
        FileManager.default.fileExists(atPath: compat.appendingPathComponent("README.md").path)
}
