/// Hexadecimal text for bytes (hand-written: Foundation has no hex codec).
public enum Hex {
    /// Lowercase hex digits, two per byte. O(n).
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes hex digits (either case), with an optional `0x` prefix;
    /// the empty string is no bytes.
    /// - Throws: ``TextFormatError`` for an odd number of digits or a
    ///   character that is not a hex digit (with its position).
    public static func decode(_ text: String) throws(TextFormatError) -> [UInt8] {
        var digits = Array(text.utf8)
        if digits.count >= 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
            digits.removeFirst(2)
        }
        guard digits.count % 2 == 0 else {
            throw TextFormatError("odd number of hex digits (\(digits.count)) in '\(abbreviated(text))'")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(of: digits[index]), let low = value(of: digits[index + 1]) else {
                let bad = value(of: digits[index]) == nil ? index : index + 1
                throw TextFormatError("'\(abbreviated(text))' is not hex: bad character at position \(bad + 1)")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Malformed text input (hex, base64, JSON, CSV, scripts, numbers): what
/// is wrong, and the line of the file when there is one.
public struct TextFormatError: Error, Equatable, CustomStringConvertible {
    public var message: String
    /// The 1-based line of the input file.
    public var line: Int?

    public init(_ message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }

    /// `line N: message`, or the message alone.
    public var description: String { line.map { "line \($0): \(message)" } ?? message }

    /// The message with the tool's one file-and-line prefix: `PATH:LINE: message`
    /// (`PATH: message` without a line).
    public func located(in path: String) -> String { fileLocation(path, line: line) + message }

    /// The same error at `line` unless it has one.
    func at(line: Int) -> TextFormatError { TextFormatError(message, line: self.line ?? line) }
}

/// `PATH:LINE: ` or `PATH: `: how every message about a place in a file starts.
public func fileLocation(_ path: String, line: Int?) -> String {
    line.map { "\(path):\($0): " } ?? "\(path): "
}

/// `text` cut to 40 characters for messages.
func abbreviated(_ text: String) -> String {
    text.count <= 40 ? text : String(text.prefix(37)) + "..."
}
