/// Deciding whether a value is best shown as text.
public enum ValueText {
    /// The value as text when it is valid UTF-8 without control characters
    /// other than tab, line feed and carriage return; nil otherwise.
    public static func text(_ bytes: [UInt8]) -> String? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        for scalar in text.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            if scalar != "\t" && scalar != "\n" && scalar != "\r" { return nil }
        }
        return text
    }
}
