/// How one sector's bytes are used, in the store's terms and as they
/// really are (the store's own view is `KeyValueStore.usage(ofSector:)`).
///
/// `validBytes + staleBytes + corruptBytes + unindexedBytes + hiddenBytes
/// + freeBytes` always equals the sector size.
public struct InspectedSector: Equatable, Sendable {
    public var index: Int
    /// Bytes of the copies the key table keeps (live entries and needed
    /// tombstones): the store's `valid_bytes`.
    public var validBytes = 0
    /// Bytes of superseded entries and extra copies.
    public var staleBytes = 0
    /// Bytes the store skips as corrupt (bad entries, and written bytes
    /// after an erased gap).
    public var corruptBytes = 0
    /// Bytes of intact entries whose keys do not fit the key capacity.
    public var unindexedBytes = 0
    /// Written bytes in a sector whose first header is erased: the store
    /// trusts such a sector to be empty when it initializes (a repair's
    /// deep scan finds them), and a write there fails.
    public var hiddenBytes = 0
    /// Erased bytes at the end of the sector.
    public var freeBytes = 0
    /// Whether the store marks the sector corrupt (nothing is appended to
    /// it until garbage collection erases it).
    public var isCorrupt = false
    /// Offset where the store believes the erased tail starts.
    public var parseEnd = 0
    /// Runs of bytes by kind, in address order (sector offsets).
    public var regions: [Region] = []

    /// A run of bytes of one kind inside the sector.
    public struct Region: Equatable, Sendable {
        public enum Kind: String, Sendable { case valid, stale, corrupt, unindexed, hidden, free }
        public var offset: Int
        public var length: Int
        public var kind: Kind
    }

    public init(index: Int) { self.index = index }

    /// Erased bytes the store can append to (0 for a corrupt sector): the
    /// store's `writable_bytes`.
    public func writableBytes(sectorSize: Int) -> Int { isCorrupt ? 0 : sectorSize - parseEnd }
    /// Bytes garbage collection would free: the store's `recoverable_bytes`.
    public func recoverableBytes(sectorSize: Int) -> Int {
        sectorSize - validBytes - writableBytes(sectorSize: sectorSize)
    }
    /// Whether the store sees the sector as erased (usable as the reserve).
    public func isEmpty(sectorSize: Int) -> Bool { !isCorrupt && parseEnd == 0 }
}
