/// A bulk-load file for factory provisioning: keys and values to put, in
/// order.
///
/// Two formats:
/// - JSON: an object `{"KEY": VALUE, ...}` where VALUE is a string (stored
///   as its UTF-8 bytes) or `{"hex": "HEX"}`. ``export(_:)`` writes this.
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
        /// Line in the CSV file, or position (1-based) in the JSON object.
        public var line: Int
    }

    public enum Format: String, Sendable, CaseIterable { case json, csv }

    public var items: [Item]

    /// Parses `bytes` in `format`; `readFile` loads the files that `file`
    /// values name (paths as written, resolved by the caller).
    /// - Throws: ``TextFormatError`` for malformed text, an unknown type, a
    ///   bad or out-of-range value, an empty or over-63-byte key, a key
    ///   given twice (the message names the line or member); the error
    ///   `readFile` throws.
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
                throw TextFormatError("\(format == .csv ? "line" : "member") \(item.line): key "
                    + "\(displayKey(item.key)) must be 1 to 63 bytes (it is \(item.key.count))")
            }
            guard seen.insert(item.key).inserted else {
                throw TextFormatError("\(format == .csv ? "line" : "member") \(item.line): key "
                    + "\(displayKey(item.key)) is given twice")
            }
        }
        return ProvisioningFile(items: items)
    }

    /// Guesses the format: a file whose first non-blank character is `{`
    /// is JSON, anything else CSV.
    public static func detectFormat(_ bytes: [UInt8]) -> Format {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        return first == UInt8(ascii: "{") ? .json : .csv
    }

    private static func parseJSON(_ bytes: [UInt8]) throws -> [Item] {
        guard case .object(let members) = try JSON.parse(bytes) else {
            throw TextFormatError("the JSON file must hold one object of key: value members")
        }
        var items: [Item] = []
        for (position, (key, value)) in members.enumerated() {
            let bytes: [UInt8]
            switch value {
            case .string(let text):
                bytes = Array(text.utf8)
            case .object(let fields) where fields.count == 1 && fields[0].0 == "hex":
                guard case .string(let hex) = fields[0].1 else {
                    throw TextFormatError("member \(position + 1) (\(displayKey(Array(key.utf8)))): \"hex\" must be a string")
                }
                do { bytes = try Hex.decode(hex) } catch {
                    throw TextFormatError("member \(position + 1) (\(displayKey(Array(key.utf8)))): \(error)")
                }
            default:
                throw TextFormatError("member \(position + 1) (\(displayKey(Array(key.utf8)))): a value must be "
                    + "a string or {\"hex\": \"...\"}")
            }
            items.append(Item(key: Array(key.utf8), value: bytes, line: position + 1))
        }
        return items
    }

    private static func parseCSV(_ bytes: [UInt8], readFile: (String) throws -> [UInt8]) throws -> [Item] {
        var records = try CSV.parse(bytes)
        if let first = records.first, first.fields.map({ $0.lowercased() }) == ["key", "type", "value"] {
            records.removeFirst()
        }
        var items: [Item] = []
        for record in records {
            guard record.fields.count == 3 else {
                throw TextFormatError("line \(record.line): expected 3 fields key,type,value, found \(record.fields.count)")
            }
            let (key, type, text) = (record.fields[0], record.fields[1], record.fields[2])
            let value: [UInt8]
            do {
                value = try decode(text, type: type, readFile: readFile)
            } catch let error as TextFormatError {
                throw TextFormatError("line \(record.line) (\(displayKey(Array(key.utf8)))): \(error)")
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

    /// The JSON of ``Format/json`` for `items`, in their order: text
    /// values as strings (see ``ValueText``), others as `{"hex": ...}`.
    /// - Throws: ``TextFormatError`` for a key that is not valid UTF-8
    ///   (JSON member names are text).
    public static func export(_ items: [(key: [UInt8], value: [UInt8])]) throws(TextFormatError) -> String {
        var members: [(String, JSON)] = []
        for item in items {
            guard let key = String(validating: item.key, as: UTF8.self) else {
                throw TextFormatError("key 0x\(Hex.encode(item.key)) is not valid UTF-8 and cannot be a JSON member name")
            }
            if let text = ValueText.text(item.value) {
                members.append((key, .string(text)))
            } else {
                members.append((key, .object([("hex", .string(Hex.encode(item.value)))])))
            }
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
