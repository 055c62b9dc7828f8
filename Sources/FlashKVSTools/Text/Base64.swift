#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Standard base64 (RFC 4648 alphabet, `=` padding), by Foundation's `Data`.
public enum Base64 {
    /// Encodes `bytes` with padding.
    public static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Decodes canonical base64; padding is optional, whitespace is not allowed.
    /// - Throws: ``TextFormatError`` for a character outside the alphabet,
    ///   misplaced padding, a length that cannot be base64, or stray bits.
    public static func decode(_ text: String) throws(TextFormatError) -> [UInt8] {
        let padded = text + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        // Foundation also accepts misplaced padding and stray bits: only the
        // text that the decoded bytes encode back to is taken.
        guard let data = Data(base64Encoded: padded), data.base64EncodedString() == padded else {
            throw TextFormatError("'\(abbreviated(text))' is not base64")
        }
        return [UInt8](data)
    }
}
