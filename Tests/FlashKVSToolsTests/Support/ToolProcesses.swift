import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs of the tool that `ToolRunner.run` cannot do: arguments that are not
/// UTF-8, a terminal for standard output or error, a run killed half-way.
extension ToolRunner {
    /// Runs the tool with raw argument bytes (Foundation's `Process` only
    /// takes `String`s, which cannot hold invalid UTF-8).
    static func run(rawArguments: [[UInt8]]) throws -> ToolResult {
        let binary = try #require(binary)
        let directory = try TemporaryDirectory()
        let outputPath = directory.path("stdout")
        let errorPath = directory.path("stderr")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments = [Array(binary.path.utf8)] + rawArguments
        let cStrings = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { pointer[index] = CChar(bitPattern: byte) }
            pointer[bytes.count] = 0
            return pointer
        }
        defer { cStrings.forEach { $0.deallocate() } }
        var argv: [UnsafeMutablePointer<CChar>?] = cStrings + [nil]
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary.path, &actions, nil, &argv, environ)
        try #require(spawned == 0, "posix_spawn failed: \(spawned)")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let exited = status & 0x7F == 0
        return ToolResult(
            status: exited ? (status >> 8) & 0xFF : -1, exitedNormally: exited,
            standardOutput: try Data(contentsOf: URL(fileURLWithPath: outputPath)),
            standardError: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errorPath)), as: UTF8.self))
    }

    /// What a run with a terminal for standard output or error printed
    /// (the terminal's line ends, CR LF, given back as LF).
    struct TerminalResult {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs the tool with standard output, or standard error, or both on a
    /// pseudo-terminal; the other goes to a file.
    static func runInTerminal(
        _ arguments: [String], standardOutput outputIsTerminal: Bool, standardError errorIsTerminal: Bool
    ) throws -> TerminalResult {
        let binary = try #require(binary)
        // posix_openpt and friends are not imported into Swift: the Linux ioctls they wrap.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0, "no pseudo-terminal")
        defer { close(master) }
        var unlock: CInt = 0
        var number: CUnsignedInt = 0
        try #require(ioctl(master, UInt(0x4004_5431) /* TIOCSPTLCK */, &unlock) == 0)
        try #require(ioctl(master, UInt(0x8004_5430) /* TIOCGPTN */, &number) == 0)
        let name = "/dev/pts/\(number)"
        let terminal = try #require(FileHandle(forUpdatingAtPath: name))
        let directory = try TemporaryDirectory()
        let files = [directory.path("stdout"), directory.path("stderr")]
        for file in files { FileManager.default.createFile(atPath: file, contents: nil) }
        let output = outputIsTerminal ? terminal : try FileHandle(forWritingTo: URL(fileURLWithPath: files[0]))
        let error = errorIsTerminal ? terminal : try FileHandle(forWritingTo: URL(fileURLWithPath: files[1]))
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "xterm"
        environment.removeValue(forKey: "NO_COLOR")
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = error
        try process.run()
        try terminal.close()
        if !outputIsTerminal { try output.close() }
        if !errorIsTerminal { try error.close() }
        // Drain the terminal while the tool runs (its buffer is small).
        var shown: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(master, &buffer, buffer.count)
            if count <= 0 { break }  // EIO once the tool has closed its side
            shown += buffer[..<count]
        }
        process.waitUntilExit()
        let onTerminal = String(decoding: shown, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        func file(_ index: Int) throws -> String {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: files[index])), as: UTF8.self)
        }
        return TerminalResult(
            status: process.terminationStatus,
            standardOutput: outputIsTerminal ? onTerminal : try file(0),
            standardError: errorIsTerminal && !outputIsTerminal ? onTerminal : try file(1))
    }

    /// A tool process left running: started with `environment` added,
    /// standard error to a file that ``waitForStandardError(containing:)`` polls.
    final class Running {
        let process = Process()
        private let directory: TemporaryDirectory
        private let errorPath: String

        init(_ arguments: [String], environment: [String: String]) throws {
            directory = try TemporaryDirectory()
            errorPath = directory.path("stderr")
            FileManager.default.createFile(atPath: errorPath, contents: nil)
            process.executableURL = try #require(ToolRunner.binary)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
            try process.run()
        }

        var standardError: String {
            String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errorPath))) ?? Data(), as: UTF8.self)
        }

        /// Waits (up to a minute) until standard error holds `text`; false
        /// if the process ended or the time ran out first.
        func waitForStandardError(containing text: String) -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if standardError.contains(text) { return true }
                if !process.isRunning { return standardError.contains(text) }
                usleep(20_000)
            }
            return false
        }

        /// Sends SIGKILL and waits for the end.
        func kill() {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
