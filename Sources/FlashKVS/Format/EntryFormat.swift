/// How entries are marked and checked on flash: a 32-bit magic number and a
/// checksum algorithm.
///
/// A store reads entries in any of its formats and writes new ones in the
/// first (primary) format. Never change an existing format's magic or
/// checksum; to migrate, put a new format first: old entries stay readable
/// and full maintenance rewrites them.
public struct EntryFormat: Sendable {
    /// Identifies the format; pick a random value. A magic whose bytes all
    /// equal the erased byte can never be read back.
    public var magic: UInt32
    public var checksum: Checksum

    public init(magic: UInt32, checksum: Checksum) {
        self.magic = magic
        self.checksum = checksum
    }
}
