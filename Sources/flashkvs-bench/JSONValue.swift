/// A JSON value and its text: just what the benchmark prints.
enum JSONValue {
    case null
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in the order given (the output keeps the contract's order).
    case object(KeyValuePairs<String, JSONValue>)

    /// The value as indented JSON text.
    func text(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null:
            return "null"
        case .integer(let value):
            return String(value)
        case .number(let value):
            return value.isFinite ? String(value) : "null"
        case .string(let value):
            return Self.quoted(value)
        case .array(let values):
            return "[" + values.map { $0.text(indent: inner) }.joined(separator: ", ") + "]"
        case .object(let members):
            return Self.objectText(members.map { ($0.key, $0.value) }, indent: indent)
        }
    }

    private static func objectText(_ members: [(String, JSONValue)], indent: String) -> String {
        if members.isEmpty { return "{}" }
        let inner = indent + "  "
        let lines = members.map { inner + quoted($0.0) + ": " + $0.1.text(indent: inner) }
        return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
