#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value to write, whose object members keep their order (the
/// order of a provisioning file is the order its keys are put in).
///
/// Strings are escaped by Foundation's `JSONEncoder`; the layout is
/// written here. Hand-written because `JSONEncoder` has no layout that
/// keeps small objects on one line, which the formats of Docs/CLI.md use,
/// and `JSONSerialization` does not keep member order.
public indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number, kept as its literal text.
    case number(String)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// A number from an integer.
    public static func int(_ value: some BinaryInteger) -> JSON { .number(String(value)) }

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The value as JSON text: objects and arrays one member per line,
    /// indented by two spaces; a nested object whose values are all
    /// scalars stays on one line when it is an array element, or always
    /// with `compactObjects`. Non-ASCII text is written as UTF-8.
    public func serialized(compactObjects: Bool = false) -> String {
        var output = ""
        write(to: &output, indent: 0, compactObjects: compactObjects, insideArray: false)
        return output
    }

    /// `text` as a JSON string literal (quotes and escapes by `JSONEncoder`).
    public static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Encoding a String cannot fail (no non-finite numbers, no custom encoders).
        return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    private func write(to output: inout String, indent: Int, compactObjects: Bool, insideArray: Bool) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let literal): output += literal
        case .string(let text): output += JSON.quoted(text)
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += String(repeating: " ", count: indent + 2)
                element.write(to: &output, indent: indent + 2, compactObjects: compactObjects, insideArray: true)
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            guard !members.isEmpty else { output += "{}"; return }
            let oneLine = indent > 0 && (compactObjects || insideArray) && members.allSatisfy { $0.1.isScalar }
            output += oneLine ? "{" : "{\n"
            for (index, (name, value)) in members.enumerated() {
                if !oneLine { output += String(repeating: " ", count: indent + 2) }
                output += JSON.quoted(name) + ": "
                value.write(to: &output, indent: indent + 2, compactObjects: compactObjects, insideArray: false)
                if index < members.count - 1 { output += oneLine ? ", " : ",\n" } else if !oneLine { output += "\n" }
            }
            output += oneLine ? "}" : String(repeating: " ", count: indent) + "}"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}
