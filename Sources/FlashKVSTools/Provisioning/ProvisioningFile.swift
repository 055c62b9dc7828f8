import Foundation

/// A bulk-load file for factory provisioning: keys and values to put, in
/// order.
///
/// Two formats:
/// - JSON, in one of two forms. The object form `{"KEY": VALUE, ...}`,
///   where VALUE is a string (stored as its UTF-8 bytes) or
///   `{"hex": "HEX"}`, for text keys. The records form
///   `[{"key": "KEY", "value": "TEXT"}, {"key_hex": "HEX", "value_hex": "HEX"}, ...]`
///   for any key (what `list --json` prints is such a file).
///   ``export(_:)`` writes the object form, or the records form when a key
///   is not UTF-8 text.
/// - CSV: records `key,type,value` (an optional first record
///   `key,type,value` is a header). Types: `text`, `hex`, `base64`,
///   `u8`/`u16`/`u32`/`u64`/`i8`/`i16`/`i32`/`i64` (decimal or `0x` hex,
///   stored little-endian in 1, 2, 4 or 8 bytes), `file` (the contents of
///   the file at the path, relative to the CSV file's folder).
public struct ProvisioningFile: Equatable, Sendable {
    /// One key to store and where it came from.
    public struct Item: Equatable, Sendable {
        public var key: [UInt8]
        public var value: [UInt8]
        /// The line of the input file the key is on.
        public var line: Int
    }

    public enum Format: String, Sendable, CaseIterable { case json, csv }

    public var items: [Item]

    /// Parses `bytes` in `format`; `readFile` loads the files that `file`
    /// values name (paths as written, resolved by the caller).
    /// - Throws: ``TextFormatError`` (with the line) for malformed text, an
    ///   unknown type, a bad or out-of-range value, an empty or over-63-byte
    ///   key, a key given twice; the error `readFile` throws.
    public static func parse(
        _ bytes: [UInt8], format: Format, readFile: (String) throws -> [UInt8]
    ) throws -> ProvisioningFile {
        let items = switch format {
        case .json: try parseJSON(bytes)
        case .csv: try parseCSV(bytes, readFile: readFile)
        }
        var seen: Set<[UInt8]> = []
        for item in items {
            guard !item.key.isEmpty, item.key.count <= 63 else {
                throw TextFormatError("key \(displayKey(item.key)) must be 1 to 63 bytes (it is \(item.key.count))",
                                      line: item.line)
            }
            guard seen.insert(item.key).inserted else {
                throw TextFormatError("key \(displayKey(item.key)) is given twice", line: item.line)
            }
        }
        return ProvisioningFile(items: items)
    }

    /// Guesses the format: a file whose first non-blank character is `{`
    /// or `[` is JSON, anything else CSV.
    public static func detectFormat(_ bytes: [UInt8]) -> Format {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? .json : .csv
    }

    private static func parseJSON(_ bytes: [UInt8]) throws(TextFormatError) -> [Item] {
        let document = try JSONDocument(bytes)
        if document.value is [Any] {
            return try document.children.map { child throws(TextFormatError) in
                try record(child.value).map { Item(key: $0.key, value: $0.value, line: child.line) }
                    .mapError { $0.at(line: child.line) }.get()
            }
        }
        guard document.value is [String: Any] else {
            throw TextFormatError("the JSON file must hold one object of key: value members, or an array of "
                + "{\"key\" or \"key_hex\", \"value\" or \"value_hex\"} records")
        }
        return try document.children.map { child throws(TextFormatError) in
            let key = Array((child.name ?? "").utf8)
            let value: [UInt8]
            if let text = child.value as? String {
                value = Array(text.utf8)
            } else if let fields = child.value as? [String: Any], fields.count == 1, let hex = fields["hex"] as? String {
                do throws(TextFormatError) { value = try Hex.decode(hex) } catch {
                    throw TextFormatError("key \(displayKey(key)): \(error.message)", line: child.line)
                }
            } else {
                throw TextFormatError("key \(displayKey(key)): a value must be a string or {\"hex\": \"...\"}",
                                      line: child.line)
            }
            return Item(key: key, value: value, line: child.line)
        }
    }

    /// One element of the records form.
    private static func record(_ element: Any) -> Result<(key: [UInt8], value: [UInt8]), TextFormatError> {
        guard let fields = element as? [String: Any] else {
            return .failure(TextFormatError("a record must be an object {\"key\" or \"key_hex\", \"value\" or \"value_hex\"}"))
        }
        if let unknown = fields.keys.sorted().first(where: { !["key", "key_hex", "value", "value_hex"].contains($0) }) {
            return .failure(TextFormatError("unknown field \(JSON.quoted(unknown)) (use key or key_hex, value or value_hex)"))
        }
        func bytes(text: String, hex: String) -> Result<[UInt8], TextFormatError> {
            // A text field may be null beside its hex field (list --json writes "key": null for a key that is not text).
            let textValue = fields[text].flatMap { $0 is NSNull ? nil : $0 }
            switch (textValue, fields[hex]) {
            case (let value as String, nil): return .success(Array(value.utf8))
            case (nil, let value as String):
                do throws(TextFormatError) { return .success(try Hex.decode(value)) } catch {
                    return .failure(TextFormatError("\(hex): \(error.message)"))
                }
            case (nil, nil): return .failure(TextFormatError("a record needs \(text) or \(hex)"))
            case (_?, _?): return .failure(TextFormatError("a record takes \(text) or \(hex), not both"))
            default: return .failure(TextFormatError("\(text) and \(hex) must be strings"))
            }
        }
        return bytes(text: "key", hex: "key_hex").flatMap { key in
            bytes(text: "value", hex: "value_hex").map { (key, $0) }
        }
    }

    private static func parseCSV(_ bytes: [UInt8], readFile: (String) throws -> [UInt8]) throws -> [Item] {
        var records = try CSV.parse(bytes)
        if let first = records.first, first.fields.map({ $0.lowercased() }) == ["key", "type", "value"] {
            records.removeFirst()
        }
        var items: [Item] = []
        for record in records {
            guard record.fields.count == 3 else {
                throw TextFormatError("expected 3 fields key,type,value, found \(record.fields.count)", line: record.line)
            }
            let (key, type, text) = (record.fields[0], record.fields[1], record.fields[2])
            let value: [UInt8]
            do {
                value = try decode(text, type: type, readFile: readFile)
            } catch let error as TextFormatError {
                throw TextFormatError("key \(displayKey(Array(key.utf8))): \(error.message)", line: record.line)
            }
            items.append(Item(key: Array(key.utf8), value: value, line: record.line))
        }
        return items
    }

    private static func decode(_ text: String, type: String, readFile: (String) throws -> [UInt8]) throws -> [UInt8] {
        switch type.lowercased() {
        case "text": return Array(text.utf8)
        case "hex": return try Hex.decode(text)
        case "base64": return try Base64.decode(text)
        case "file": return try readFile(text)
        default:
            guard let integer = IntegerType(rawValue: type.lowercased()) else {
                throw TextFormatError("unknown type '\(type)' (use text, hex, base64, file, u8...u64, i8...i64)")
            }
            return try integer.encode(text)
        }
    }

    /// The JSON of ``Format/json`` for `items`, in their order. The object
    /// form when every key is UTF-8 text: text values (see ``ValueText``)
    /// as strings, others as `{"hex": ...}`. Otherwise the records form:
    /// `{"key": ...}` or `{"key_hex": ...}`, and `"value"` or `"value_hex"`.
    public static func export(_ items: [(key: [UInt8], value: [UInt8])]) -> String {
        let textKeys = items.map { String(validating: $0.key, as: UTF8.self) }
        guard textKeys.allSatisfy({ $0 != nil }) else {
            let records = items.map { item in
                JSON.object([
                    String(validating: item.key, as: UTF8.self).map { ("key", .string($0)) }
                        ?? ("key_hex", .string(Hex.encode(item.key))),
                    ValueText.text(item.value).map { ("value", .string($0)) }
                        ?? ("value_hex", .string(Hex.encode(item.value))),
                ])
            }
            return JSON.array(records).serialized() + "\n"
        }
        let members = zip(textKeys, items).map { key, item in
            (key!, ValueText.text(item.value).map(JSON.string) ?? .object([("hex", .string(Hex.encode(item.value)))]))
        }
        return JSON.object(members).serialized(compactObjects: true) + "\n"
    }
}

/// The fixed-width integer types of provisioning CSV files.
enum IntegerType: String {
    case u8, u16, u32, u64, i8, i16, i32, i64

    var byteCount: Int {
        switch self {
        case .u8, .i8: 1
        case .u16, .i16: 2
        case .u32, .i32: 4
        case .u64, .i64: 8
        }
    }

    var isSigned: Bool { rawValue.hasPrefix("i") }

    /// The little-endian bytes of the number in `text` (decimal, or hex
    /// with `0x`; a leading `-` for signed types).
    func encode(_ text: String) throws(TextFormatError) -> [UInt8] {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        var radix = 10
        if digits.lowercased().hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else {
            throw TextFormatError("'\(abbreviated(text))' is not a number")
        }
        let bits = UInt64(byteCount * 8)
        let pattern: UInt64
        if isSigned {
            let limit: UInt64 = 1 << (bits - 1)
            guard negative ? magnitude <= limit : magnitude < limit else {
                throw TextFormatError("\(text) is out of range for \(rawValue)")
            }
            pattern = negative ? (0 &- magnitude) : magnitude
        } else {
            guard !negative || magnitude == 0, bits == 64 || magnitude < (1 << bits) else {
                throw TextFormatError("\(text) is out of range for \(rawValue)")
            }
            pattern = magnitude
        }
        return (0..<byteCount).map { UInt8(truncatingIfNeeded: pattern >> (8 * UInt64($0))) }
    }
}
