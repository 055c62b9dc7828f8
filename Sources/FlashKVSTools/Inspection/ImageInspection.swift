import FlashKVS

/// What ``ImageInspector`` found on a flash image: every entry physically
/// present, each sector's usage, the key table the store would build, and
/// the problems.
public struct ImageInspection: Sendable {
    /// A key as the store's key table would hold it.
    public struct Key: Equatable, Sendable {
        public var key: [UInt8]
        public var transactionID: UInt32
        public var isDeleted: Bool
        /// Partition addresses of the kept copies, in the order found.
        public var addresses: [Int]
    }

    public var configuration: StoreConfiguration
    public var sectorSize: Int
    public var sectorCount: Int
    /// Entries and corrupt runs in address order.
    public var entries: [InspectedEntry]
    public var sectors: [InspectedSector]
    /// Keys in the store's iteration order, deleted keys included.
    public var keys: [Key]
    public var problems: [ImageProblem]
    /// The atomic batches whose intent record is on flash, oldest first
    /// (Docs/BATCHES.md). A torn one is not a problem: a store with
    /// batches enabled rolls it back at init (see ``tornBatch``).
    public var batches: [InspectedBatch] = []
    /// The newest transaction id among current versions (the store's
    /// `transaction_count` after initialization).
    public var lastTransactionID: UInt32
    /// The sector holding the newest entry: where placement resumes.
    public var lastNewSector: Int
    /// The counts the store's `ScanReport` also keeps.
    var scanCounts: ScanCounts

    /// Whether no problem was found.
    public var isClean: Bool { problems.isEmpty }
    /// Whether the store's initialization reports errors for this image.
    public var storeDetectsErrors: Bool { problems.contains { $0.isDetectedByStore } }
    /// Number of present keys.
    public var liveKeyCount: Int { keys.count { !$0.isDeleted } }
    /// Bytes of kept copies (the store's `in_use_bytes`).
    public var inUseBytes: Int { sectors.reduce(0) { $0 + $1.validBytes } }
    /// Bytes garbage collection would free (the store's `reclaimable_bytes`).
    public var reclaimableBytes: Int { sectors.reduce(0) { $0 + $1.recoverableBytes(sectorSize: sectorSize) } }
    /// Writable bytes not counting the first empty sector, kept in reserve
    /// (the store's `writable_bytes`).
    public var writableBytes: Int {
        var reserveSkipped = false
        var total = 0
        for usage in sectors {
            if !reserveSkipped && usage.isEmpty(sectorSize: sectorSize) {
                reserveSkipped = true
            } else {
                total += usage.writableBytes(sectorSize: sectorSize)
            }
        }
        return total
    }

    /// The entry that starts at `address`, if any.
    public func entry(at address: Int) -> InspectedEntry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].address < address { low = middle + 1 } else { high = middle }
        }
        return low < entries.count && entries[low].address == address ? entries[low] : nil
    }
}
