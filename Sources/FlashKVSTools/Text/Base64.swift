/// Standard base64 (RFC 4648 alphabet, `=` padding).
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes `bytes` with padding. O(n).
    public static func encode(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let group = UInt32(bytes[index]) << 16 | (remaining > 1 ? UInt32(bytes[index + 1]) << 8 : 0)
                | (remaining > 2 ? UInt32(bytes[index + 2]) : 0)
            for position in 0..<4 {
                if position <= remaining {
                    text.append(alphabet[Int((group >> (18 - 6 * UInt32(position))) & 0x3F)])
                } else {
                    text.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes base64; padding is optional, whitespace is not allowed.
    /// - Throws: ``TextFormatError`` for a character outside the alphabet,
    ///   misplaced padding or a length that cannot be base64.
    public static func decode(_ text: String) throws(TextFormatError) -> [UInt8] {
        var characters = Array(text.utf8)
        var padding = 0
        while characters.last == UInt8(ascii: "="), padding < 2 {
            characters.removeLast()
            padding += 1
        }
        guard characters.count % 4 != 1, padding == 0 || (characters.count + padding) % 4 == 0 else {
            throw TextFormatError("'\(abbreviated(text))' is not base64: bad length")
        }
        var bytes: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for (position, character) in characters.enumerated() {
            guard let value = value(of: character) else {
                throw TextFormatError("'\(abbreviated(text))' is not base64: bad character at position \(position + 1)")
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else {
            throw TextFormatError("'\(abbreviated(text))' is not base64: stray bits at the end")
        }
        return bytes
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
