import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the live keys and values in iteration order.",
        discussion: """
            Keys are shown bare when they are printable text without spaces, as a JSON string \
            ("...") when they are other text or start with " or 0x, and as 0x-prefixed hex when \
            they are not UTF-8. Text values are shown in double quotes (JSON escapes), other \
            values as hex:.... With --json: an array of {"key": "...", "value_hex": "..."}; a key \
            that is not UTF-8 has "key": null and "key_hex". Fails with status 10 when the image \
            holds data that cannot be read with these options, 11 when values are corrupt \
            (--partial lists the rest). Read-only.
            """)

    @Argument(help: "The image file.") var image: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var partial: PartialOption
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let (session, _) = try ImageAccess.openForReading(
            image, options, command: "list", checking: .unreadableDataAndDataLoss, partial: partial.partial)
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
        let keys = contents.map { tableKey($0.key) }
        let width = min(keys.map(\.count).max() ?? 0, 32)
        for (key, item) in zip(keys, contents) {
            let padding = String(repeating: " ", count: max(0, width - key.count))
            Output.write(key + padding + "  " + Self.valueText(item.value) + "\n")
        }
    }

    static func json(_ item: (key: [UInt8], value: [UInt8])) -> JSON {
        var members = keyJSON(item.key)
        members.append(("value_hex", .string(Hex.encode(item.value))))
        return .object(members)
    }

    /// `"key": TEXT`, or `"key": null, "key_hex": HEX` for a key that is not UTF-8.
    static func keyJSON(_ key: [UInt8]) -> [(String, JSON)] {
        guard let text = String(validating: key, as: UTF8.self) else {
            return [("key", .null), ("key_hex", .string(Hex.encode(key)))]
        }
        return [("key", .string(text))]
    }

    /// A value as printed in tables: quoted text, or hex:....
    static func valueText(_ value: [UInt8]) -> String {
        if let text = ValueText.text(value) { return JSON.quoted(text) }
        return "hex:" + Hex.encode(value)
    }
}
