import Foundation

/// JSON input read with Foundation's `JSONSerialization`, plus what it
/// does not give: the order and line of each member of the top-level
/// object (or element of the top-level array).
public struct JSONDocument {
    /// A member of the top-level object, or an element of the top-level
    /// array (then `name` is nil), with the line it starts on.
    public struct Child {
        public var name: String?
        public var value: Any
        public var line: Int
    }

    /// The parsed value (`[String: Any]`, `[Any]`, `String`, `NSNumber`, `NSNull`).
    public var value: Any
    /// The top-level members or elements, in file order.
    public var children: [Child]

    /// Parses UTF-8 JSON text.
    /// - Throws: ``TextFormatError`` with the line (and column) of the
    ///   first syntax error, or for text that is not UTF-8.
    public init(_ bytes: [UInt8]) throws(TextFormatError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw TextFormatError("the JSON text is not valid UTF-8")
        }
        do {
            value = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw Self.syntaxError(error, in: bytes)
        }
        let starts = Self.childStarts(bytes)
        if let object = value as? [String: Any] {
            children = try starts.map { (start, line) throws(TextFormatError) in
                guard let name = Self.decodeName(bytes, at: start) else {
                    throw TextFormatError("a member name cannot be read", line: line)
                }
                return Child(name: name, value: object[name] ?? NSNull(), line: line)
            }
        } else if let array = value as? [Any], array.count == starts.count {
            children = zip(array, starts).map { Child(name: nil, value: $0, line: $1.line) }
        } else {
            children = []
        }
    }

    /// Foundation's message ("Invalid value around character 12.") with
    /// the character turned into a line and column.
    private static func syntaxError(_ error: Error, in bytes: [UInt8]) -> TextFormatError {
        var message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        guard let match = message.firstMatch(of: /\s*around (?:line \d+, column \d+|character (\d+))\.?$/) else {
            return TextFormatError("not valid JSON: \(message)")
        }
        message.removeSubrange(match.range)
        guard let offset = match.1.flatMap({ Int($0) }) else { return TextFormatError("not valid JSON: \(message)") }
        let before = bytes.prefix(min(offset, bytes.count))
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return TextFormatError("not valid JSON: \(message.lowercasedFirst) (column \(column))", line: line)
    }

    /// Where each top-level member name (or array element) starts, and its
    /// line. The text is valid JSON here (Foundation parsed it), so this
    /// only tracks strings and nesting. Hand-written: Foundation's parsers
    /// return objects as dictionaries, which lose the member order.
    private static func childStarts(_ bytes: [UInt8]) -> [(start: Int, line: Int)] {
        var starts: [(start: Int, line: Int)] = []
        var depth = 0
        var line = 1
        var inString = false
        var escaped = false
        var expectingChild = false
        for (index, byte) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\n"): line += 1; continue
            case 0x20, 0x09, 0x0D: continue
            default: break
            }
            if expectingChild && depth == 1 && byte != UInt8(ascii: "}") && byte != UInt8(ascii: "]") {
                starts.append((index, line))
                expectingChild = false
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 1 { expectingChild = true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectingChild = true }
            default: break
            }
        }
        return starts
    }

    /// The member name (a string literal) starting at `start`, decoded by Foundation.
    private static func decodeName(_ bytes: [UInt8], at start: Int) -> String? {
        var end = start + 1
        var escaped = false
        while end < bytes.count {
            if escaped { escaped = false } else if bytes[end] == UInt8(ascii: "\\") { escaped = true }
            else if bytes[end] == UInt8(ascii: "\"") { break }
            end += 1
        }
        guard end < bytes.count else { return nil }
        let literal = Data(bytes[start...end])
        return (try? JSONSerialization.jsonObject(with: literal, options: [.fragmentsAllowed])) as? String
    }
}

extension String {
    /// The text with its first character lowercased ("Invalid value" -> "invalid value").
    var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}
