/// Comma-separated values as RFC 4180 writes them (hand-written: neither
/// the standard library nor Foundation on Linux reads CSV): fields separated by
/// commas, records by LF or CRLF, a field in double quotes may hold commas,
/// line breaks and doubled quotes (`""`).
public enum CSV {
    /// One record and the line it starts on (1-based).
    public struct Record: Equatable, Sendable {
        public var line: Int
        public var fields: [String]
    }

    /// Splits UTF-8 text into records; empty lines are skipped.
    /// - Throws: ``TextFormatError`` for invalid UTF-8, text after a
    ///   closing quote, or an unterminated quoted field (with its line).
    /// - Complexity: O(n).
    public static func parse(_ bytes: [UInt8]) throws(TextFormatError) -> [Record] {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw TextFormatError("the CSV text is not valid UTF-8")
        }
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var index = 0
        var atFieldStart = true
        var recordHasContent = false
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            if recordHasContent { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll()
            atFieldStart = true
            recordHasContent = false
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") && atFieldStart {
                atFieldStart = false
                recordHasContent = true
                let quoteLine = line
                index += 1
                while true {
                    guard index < bytes.count else {
                        throw TextFormatError("unterminated quoted field", line: quoteLine)
                    }
                    let inner = bytes[index]
                    if inner == UInt8(ascii: "\"") {
                        if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                            field.append(inner)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if inner == UInt8(ascii: "\n") { line += 1 }
                    field.append(inner)
                    index += 1
                }
                let next = index < bytes.count ? bytes[index] : UInt8(ascii: "\n")
                guard next == UInt8(ascii: ",") || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") else {
                    throw TextFormatError("text after a closing quote", line: line)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                endField()
                atFieldStart = true
                recordHasContent = true
            case UInt8(ascii: "\n"):
                endRecord()
                line += 1
                recordLine = line
            case UInt8(ascii: "\r") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"):
                break
            default:
                field.append(byte)
                atFieldStart = false
                recordHasContent = true
            }
            index += 1
        }
        if recordHasContent { endRecord() }
        return records
    }

    /// A field quoted when it holds a comma, quote or line break.
    public static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacing("\"", with: "\"\"") + "\""
    }
}
