import Foundation
import Testing
import FlashKVS

/// Access to `../shared` (the reference vectors, images and scripts that sit
/// beside the project in development and CI, but not in a user's clone).
enum SharedData {
    /// `<package root>/../shared`, from this file's location.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // FlashKVSTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .deletingLastPathComponent()
        .appendingPathComponent("shared")

    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("spec/pw_kvs_vectors.json").path)
    }

    /// Why the tests that need it are skipped.
    static let skipReason: Comment = "../shared (reference vectors and images) is not beside the project; skipped"

    static func url(_ relativePath: String) -> URL { directory.appendingPathComponent(relativePath) }

    /// Every object in `spec/pw_kvs_vectors.json`, or none when absent.
    nonisolated(unsafe) static let vectors: [[String: Any]] = {
        guard let data = try? Data(contentsOf: url("spec/pw_kvs_vectors.json")),
              let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return array
    }()

    static func vectors(kind: String) -> [[String: Any]] {
        vectors.filter { $0["kind"] as? String == kind }
    }

    static func vectorNames(kind: String) -> [String] {
        vectors(kind: kind).compactMap { $0["name"] as? String }
    }

    static func vector(named name: String) -> [String: Any]? {
        vectors.first { $0["name"] as? String == name }
    }
}

extension Array where Element == UInt8 {
    /// Bytes from a hex string such as "0aff" (other characters ignored).
    init(hex: String) {
        var bytes: [UInt8] = []
        var high: UInt8? = nil
        for character in hex.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: continue
            }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self = bytes
    }

    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in self { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Parses "0x1234abcd" or a decimal number.
func parseInteger(_ text: String) -> UInt64 {
    text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16)! : UInt64(text)!
}

/// Key bytes as the vectors write them: one character per byte (ASCII, or
/// Latin-1 for bytes >= 0x80).
func keyBytes(_ key: String) -> [UInt8] { key.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
func keyString(_ bytes: [UInt8]) -> String { String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })) }

extension KVSError {
    /// The error with a pw_status name such as "NOT_FOUND".
    init?(statusName: String) {
        for code in UInt8(1)...16 {
            if let error = KVSError(rawValue: code), "\(error.name)" == statusName {
                self = error
                return
            }
        }
        return nil
    }
}

/// "OK" or the error's pw_status name.
func statusName(_ error: KVSError?) -> String { error.map { "\($0.name)" } ?? "OK" }

/// Runs `body` and returns its error, nil on success.
func status<T>(_ body: () throws(KVSError) -> T) -> (KVSError?, T?) {
    do { return (nil, try body()) } catch { return (error, nil) }
}
