/// What the last full scan of the flash (``KeyValueStore/initialize()`` or
/// a repair) found. All zero / false when the flash was clean.
public struct ScanReport: Equatable, Sendable {
    /// Entries that were skipped as corrupt: bad header, key or checksum,
    /// or a second copy in the same sector.
    public var corruptEntries = 0
    /// Sectors that hold corrupt or unrecognized bytes; no new data goes
    /// there until they are repaired (garbage-collected).
    public var corruptSectors = 0
    /// Erased-looking gaps followed by written bytes inside a sector
    /// (pw_kvs stops reading the sector at such a gap and loses what
    /// follows; FlashKVS reads on).
    public var gapsFound = 0
    /// Flash reads that failed during the scan. A scan with failed reads
    /// is repeated (twice at most) before its result is used, so that a
    /// transient read error never gets a good entry treated as corrupt
    /// and erased by the repair (pw_kvs does exactly that).
    public var failedReads = 0
    /// Scans repeated because of failed reads.
    public var rescans = 0
    /// Keys with fewer copies than the configured redundancy.
    public var keysMissingCopies = 0
    /// Valid entries of keys that did not fit the key table (`capacity` is
    /// smaller than the number of keys on flash). While non-zero, the store
    /// never erases or writes: reopen it with a larger capacity.
    public var entriesNotLoaded = 0
    /// Whether no sector was erased (garbage collection needs one).
    public var noErasedSector = false
    /// Whether the flash holds data of another configuration: written
    /// sectors but not one entry parses with the configured formats (wrong
    /// magic or checksum?), or some entries carry a magic that none of the
    /// formats has, even damaged (a format missing from `formats`?). While
    /// true, the store never erases or writes.
    public var unrecognizedData = false

    /// Whether a failed entry's magic cannot be a known one, even damaged,
    /// or could not be read: then a lone failed entry is not taken for a
    /// torn write of this store.
    var sawUnknownMagic = false

    public init() {}

    /// Whether the flash holds data the store could not index, so that a
    /// repair (which erases sectors) would destroy it.
    public var holdsUnindexedData: Bool { entriesNotLoaded > 0 || unrecognizedData }
}
