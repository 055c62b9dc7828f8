/// A script of store operations, in the format of the reference's
/// compatibility images (shared/compat/README.md):
///
///     put KEY TEXT...     the value is the rest of the line after the key
///                         and one space, as bytes (may be empty)
///     puthex KEY HEX      the value is the hex bytes
///     delete KEY
///     put-key-hex KEYHEX TEXT...      the same three with the key as hex
///     puthex-key-hex KEYHEX HEX       digits, for keys that are not text
///     delete-key-hex KEYHEX           (or hold spaces)
///     maintain partial|full|heavy
///     reinit              a new store object over the same flash, then init
///     # comment           (blank lines are ignored too)
///
/// Lines end with LF or CRLF. Keys are the bytes up to the next space.
public struct StoreScript: Equatable, Sendable {
    public enum Maintenance: String, Sendable, CaseIterable { case partial, full, heavy }

    public enum Operation: Equatable, Sendable {
        case put(key: [UInt8], value: [UInt8])
        case delete(key: [UInt8])
        case maintain(Maintenance)
        case reinit
    }

    /// An operation and its 1-based line number.
    public struct Line: Equatable, Sendable {
        public var number: Int
        public var operation: Operation
    }

    public var lines: [Line]

    public init(lines: [Line]) { self.lines = lines }

    /// Parses a whole script before anything runs.
    /// - Throws: ``TextFormatError`` naming the line: an unknown command, a
    ///   missing or empty key, bad hex, extra words.
    public static func parse(_ bytes: [UInt8]) throws(TextFormatError) -> StoreScript {
        var lines: [Line] = []
        var number = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.first == UInt8(ascii: "#") || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                lines.append(Line(number: number, operation: try parseOperation(line)))
            } catch {
                throw error.at(line: number)
            }
        }
        return StoreScript(lines: lines)
    }

    private static func parseOperation(_ line: [UInt8]) throws(TextFormatError) -> Operation {
        let (commandBytes, rest) = split(line)
        var command = String(decoding: commandBytes, as: UTF8.self)
        let keyInHex = ["put-key-hex", "puthex-key-hex", "delete-key-hex"].contains(command)
        if keyInHex { command.removeLast("-key-hex".count) }
        func key(_ bytes: [UInt8]) throws(TextFormatError) -> [UInt8] {
            guard keyInHex else { return bytes }
            do { return try Hex.decode(String(decoding: bytes, as: UTF8.self)) } catch {
                throw TextFormatError("the key: \(error.message)")
            }
        }
        switch command {
        case "put":
            let (keyBytes, value) = try keyAndRest(rest, command: "put")
            return .put(key: try key(keyBytes), value: value ?? [])
        case "puthex":
            let (keyBytes, value) = try keyAndRest(rest, command: "puthex")
            return .put(key: try key(keyBytes), value: try Hex.decode(String(decoding: value ?? [], as: UTF8.self)))
        case "delete":
            let (keyBytes, extra) = try keyAndRest(rest, command: "delete")
            guard extra == nil else {
                throw TextFormatError("delete takes one key (keys with spaces are given with delete-key-hex)")
            }
            return .delete(key: try key(keyBytes))
        case "maintain":
            let word = String(decoding: rest ?? [], as: UTF8.self)
            guard let kind = Maintenance(rawValue: word) else {
                throw TextFormatError("maintain needs partial, full or heavy, not '\(abbreviated(word))'")
            }
            return .maintain(kind)
        case "reinit":
            guard rest == nil else { throw TextFormatError("reinit takes no arguments") }
            return .reinit
        default:
            throw TextFormatError("unknown command '\(abbreviated(String(decoding: commandBytes, as: UTF8.self)))' "
                + "(use put, puthex, delete, put-key-hex, puthex-key-hex, delete-key-hex, maintain, reinit)")
        }
    }

    /// The bytes before the first space, and those after it (nil: no space).
    private static func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8]?) {
        guard let space = bytes.firstIndex(of: 0x20) else { return (bytes, nil) }
        return (Array(bytes[..<space]), Array(bytes[(space + 1)...]))
    }

    private static func keyAndRest(_ rest: [UInt8]?, command: String) throws(TextFormatError) -> ([UInt8], [UInt8]?) {
        guard let rest else { throw TextFormatError("\(command) needs a key") }
        let (key, value) = split(rest)
        guard !key.isEmpty else { throw TextFormatError("\(command) needs a key (found an extra space)") }
        return (key, value)
    }
}
