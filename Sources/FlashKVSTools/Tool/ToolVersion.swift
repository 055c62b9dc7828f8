/// The version of FlashKVS's host tools, as `flashkvs --version` prints
/// it; the newest heading of CHANGELOG.md (a test keeps them equal).
public enum ToolVersion {
    public static let current = "0.2.0"
}
