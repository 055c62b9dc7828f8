import FlashKVSTools
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing to standard output and standard error. Everything goes
/// through the file descriptors (no stdio buffering), so text and raw
/// bytes keep their order.
enum Output {
    /// Writes `text` to standard output.
    static func write(_ text: String) {
        write(bytes: Array(text.utf8))
    }

    /// Writes raw bytes to standard output (a closed pipe is ignored).
    static func write(bytes: [UInt8]) {
        _ = try? bytes.withUnsafeBytes { try FileDescriptor.standardOutput.writeAll($0) }
    }

    /// Prints `flashkvs: error: MESSAGE` on standard error.
    static func error(_ message: String) {
        writeError("flashkvs: error: \(message)\n")
    }

    /// Prints `flashkvs: warning: MESSAGE` on standard error.
    static func warning(_ message: String) {
        writeError("flashkvs: warning: \(message)\n")
    }

    /// Writes to standard error, after clearing a progress line.
    static func writeError(_ text: String) {
        Progress.clear()
        writeRawError(text)
    }

    fileprivate static func writeRawError(_ text: String) {
        _ = try? Array(text.utf8).withUnsafeBytes { try FileDescriptor.standardError.writeAll($0) }
    }

    /// Whether standard output is a terminal.
    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Whether standard output is a terminal that takes colors: a TTY,
    /// `NO_COLOR` unset and `TERM` not `dumb`.
    static var standardOutputTakesColor: Bool {
        guard standardOutputIsTerminal else { return false }
        if let noColor = getenv("NO_COLOR"), noColor.pointee != 0 { return false }
        if let term = getenv("TERM"), String(decoding: UnsafeRawBufferPointer(start: term, count: strlen(term)), as: UTF8.self) == "dumb" {
            return false
        }
        return true
    }
}

/// Progress of long work, one line on standard error redrawn in place:
/// shown only when standard error is a terminal and the image is large
/// (``threshold``), so that pipes, files and small images get nothing.
enum Progress {
    /// Images from this size on take seconds to scan or copy.
    static let threshold = 4 << 20
    nonisolated(unsafe) private static var enabled = false
    nonisolated(unsafe) private static var shown: (activity: String, percent: Int)?

    /// Turns progress on for an image of `bytes` bytes, when standard error is a terminal.
    static func start(imageBytes bytes: Int) {
        enabled = enabled || (bytes >= threshold && isatty(STDERR_FILENO) == 1)
    }

    /// Shows `activity NN%` (redrawn only when it changes).
    static func report(_ activity: String, _ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let percent = min(100, max(0, done * 100 / total))
        guard shown?.activity != activity || shown?.percent != percent else { return }
        shown = (activity, percent)
        let command = CommandLine.arguments.dropFirst().first ?? "flashkvs"
        Output.writeRawError("\r\u{1B}[Kflashkvs: \(command): \(activity) \(percent)%")
    }

    /// Erases the progress line.
    static func clear() {
        guard shown != nil else { return }
        shown = nil
        Output.writeRawError("\r\u{1B}[K")
    }
}

/// The test-only hook of Docs/CLI.md: with `FLASHKVS_TEST_PAUSE_AFTER_WRITES=N`
/// in the environment, the tool stops after the Nth flash write to an
/// image (says so on standard error, then waits for a signal), so that a
/// test can kill it in the middle of a command.
enum TestHooks {
    static let pauseAfterWrites: Int? = getenv("FLASHKVS_TEST_PAUSE_AFTER_WRITES").flatMap {
        Int(String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self))
    }
    nonisolated(unsafe) private static var writes = 0

    static func didWrite() {
        writes += 1
        guard let pauseAfterWrites, writes == pauseAfterWrites else { return }
        Output.writeError("flashkvs: test: paused after \(counted(writes, "flash write"))\n")
        while true { pause() }
    }
}

extension FileFlash {
    /// Reports this flash's reads and writes as progress, and counts its
    /// writes for ``TestHooks``.
    func observeForTool() {
        Progress.start(imageBytes: size)
        let size = self.size
        observer = { access in
            switch access {
            case .read(let address, let count): Progress.report("reading", address + count, of: size)
            case .write(let address, let count):
                Progress.report("writing", address + count, of: size)
                TestHooks.didWrite()
            case .erase(let address, let count): Progress.report("writing", address + count, of: size)
            }
        }
    }
}
