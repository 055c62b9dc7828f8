import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the live keys and values in iteration order.",
        discussion: """
            Text values are shown in double quotes (JSON escapes), other values as hex:.... \
            With --json: an array of {"key": "...", "value_hex": "..."} (plus "key_hex" for a \
            key that is not UTF-8). Read-only.
            """)

    @Argument(help: "The image file.") var image: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let session = try ImageAccess.openForReading(image, options)
        let contents: [(key: [UInt8], value: [UInt8])]
        do {
            contents = try session.store.contents()
        } catch {
            throw CLIError.store(error, "listing '\(image)'", image: image, flash: session.flash)
        }
        if json {
            Output.write(JSON.array(contents.map(Self.json)).serialized() + "\n")
            return
        }
        let keys = contents.map { Self.keyText($0.key) }
        let width = min(keys.map(\.count).max() ?? 0, 32)
        for (key, item) in zip(keys, contents) {
            let padding = String(repeating: " ", count: max(0, width - key.count))
            Output.write(key + padding + "  " + Self.valueText(item.value) + "\n")
        }
    }

    static func json(_ item: (key: [UInt8], value: [UInt8])) -> JSON {
        var members: [(String, JSON)] = [("key", .string(String(decoding: item.key, as: UTF8.self)))]
        if String(validating: item.key, as: UTF8.self) == nil { members.append(("key_hex", .string(Hex.encode(item.key)))) }
        members.append(("value_hex", .string(Hex.encode(item.value))))
        return .object(members)
    }

    /// A key as printed in tables: the text when printable, else 0x hex.
    static func keyText(_ key: [UInt8]) -> String {
        let shown = displayKey(key)
        return shown.hasPrefix("'") ? String(shown.dropFirst().dropLast()) : shown
    }

    /// A value as printed in tables: quoted text, or hex:....
    static func valueText(_ value: [UInt8]) -> String {
        if let text = ValueText.text(value) { return JSON.string(text).serialized() }
        return "hex:" + Hex.encode(value)
    }
}
