/// Behaviour switches of a ``KeyValueStore`` (pw_kvs `Options`).
public struct Options: Sendable {
    /// When a write needs space, how much garbage collection it may do.
    public enum GarbageCollection: Sendable {
        /// Never collect during a write; a write that needs space throws
        /// `.resourceExhausted`.
        case disabled
        /// Collect at most one sector per space request.
        case oneSector
        /// Collect as many sectors as needed (bounded by the sector count);
        /// when the key table is full, a new key also runs heavy
        /// maintenance's collection and deleted-key removal (without format
        /// migration, unlike pw_kvs).
        case asManySectorsAsNeeded
    }

    /// When detected errors (corrupt sectors, missing copies) are repaired.
    public enum Recovery: Sendable {
        /// Same as ``lazy`` (as in pw_kvs).
        case immediate
        /// `initialize()` and partial maintenance repair.
        case lazy
        /// Only full and heavy maintenance repair.
        case manual
    }

    public var garbageCollectionOnWrite: GarbageCollection
    public var recovery: Recovery
    /// Verify the checksum of every complete value read.
    public var verifyOnRead: Bool
    /// Read back and verify every entry written or copied: a new entry is
    /// compared byte for byte with what was meant to be programmed (each
    /// chunk, in reads of up to 64 bytes), a copy's checksum is checked.
    public var verifyOnWrite: Bool

    public init(
        garbageCollectionOnWrite: GarbageCollection = .asManySectorsAsNeeded, recovery: Recovery = .lazy,
        verifyOnRead: Bool = true, verifyOnWrite: Bool = true
    ) {
        self.garbageCollectionOnWrite = garbageCollectionOnWrite
        self.recovery = recovery
        self.verifyOnRead = verifyOnRead
        self.verifyOnWrite = verifyOnWrite
    }
}
