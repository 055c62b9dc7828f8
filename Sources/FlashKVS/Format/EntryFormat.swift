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

extension EntryFormat {
    /// Whether `found`, read where an entry starts, could be this format's
    /// magic damaged on flash: by a program or an erase cut short (some bits
    /// that should be 0 read 1), by stray programming (some 1 bits read 0),
    /// or in at most two of its four bytes. For a random magic of another
    /// format this holds by a chance of about 1 in 8 000.
    public func couldBeDamagedMagic(_ found: UInt32) -> Bool {
        if found | magic == found || found & magic == found { return true }
        var difference = found ^ magic
        var bytesDiffering = 0
        while difference != 0 {
            if difference & 0xFF != 0 { bytesDiffering &+= 1 }
            difference >>= 8
        }
        return bytesDiffering <= 2
    }

    /// Whether `found` could be the magic of any of `formats`, damaged
    /// (``couldBeDamagedMagic(_:)``).
    public static func couldBeDamagedMagic(_ found: UInt32, ofAnyOf formats: [EntryFormat]) -> Bool {
        for format in formats where format.couldBeDamagedMagic(found) { return true }
        return false
    }
}
