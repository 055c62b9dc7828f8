import FlashKVS

/// One entry (or one run of unreadable bytes) found on flash by
/// ``ImageInspector``.
public struct InspectedEntry: Equatable, Sendable {
    /// What the store makes of the entry.
    public enum State: String, Sendable, CaseIterable {
        /// The current version of a present key (one of its kept copies).
        case live
        /// A superseded version, or a copy beyond the redundancy: garbage.
        case stale
        /// The current tombstone of a deleted key (still needed).
        case deleted
        /// Bytes the store cannot use: a bad header, checksum or key, a
        /// duplicate copy in one sector, or written bytes after an erased gap.
        case corrupt
        /// An intact entry whose key does not fit the key capacity
        /// (--max-entries): the store does not load it, and refuses to
        /// write or erase until it is reopened with a larger capacity.
        case unindexed
    }

    /// Partition address of the first byte.
    public var address: Int
    public var sector: Int
    /// Offset of the first byte inside its sector.
    public var offset: Int
    /// Bytes on flash: the entry's size, or for corrupt data the bytes the
    /// store skips (up to the next plausible header).
    public var size: Int
    /// The decoded header, when at least the 16 header bytes were there to
    /// decode (even if they make no sense).
    public var header: EntryHeader?
    /// The key bytes, when the header gave a usable key length.
    public var key: [UInt8]?
    public var state: State
    /// Why the entry is corrupt or stale, in words.
    public var detail: String?
    /// What the entry is to an atomic batch (Docs/BATCHES.md): its intent
    /// record, a member, its commit record...; nil for an entry outside
    /// every batch.
    public var batch: BatchRole?

    public init(
        address: Int, sector: Int, offset: Int, size: Int, header: EntryHeader?, key: [UInt8]?, state: State,
        detail: String? = nil, batch: BatchRole? = nil
    ) {
        self.address = address
        self.sector = sector
        self.offset = offset
        self.size = size
        self.header = header
        self.key = key
        self.state = state
        self.detail = detail
        self.batch = batch
    }

    /// Whether the header marks a deleted key.
    public var isTombstone: Bool { header?.isTombstone ?? false }
}
