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

    private static func writeError(_ text: String) {
        _ = try? Array(text.utf8).withUnsafeBytes { try FileDescriptor.standardError.writeAll($0) }
    }

    /// Whether standard output is a terminal that takes colors: a TTY,
    /// `NO_COLOR` unset and `TERM` not `dumb`.
    static var standardOutputTakesColor: Bool {
        guard isatty(STDOUT_FILENO) == 1 else { return false }
        if let noColor = getenv("NO_COLOR"), noColor.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }
}
