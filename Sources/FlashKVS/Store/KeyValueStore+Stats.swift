/// How the partition's bytes are used, and what the store did since it
/// was created (counts are kept in RAM only).
public struct StorageStats: Equatable, Sendable {
    /// Erased bytes available for new entries, not counting the one empty
    /// sector kept in reserve for garbage collection.
    public var writableBytes = 0
    /// Bytes of the entries the key table points to (all copies, including
    /// tombstones still needed).
    public var inUseBytes = 0
    /// Bytes that garbage collection would free: stale, no longer needed
    /// and corrupt data.
    public var reclaimableBytes = 0
    /// Sector erases started by garbage collection.
    public var sectorEraseCount = 0
    /// Corrupt sectors repaired.
    public var corruptSectorsRecovered = 0
    /// Keys whose missing redundant copies were restored.
    public var missingRedundantEntriesRecovered = 0

    public init() {}
}

extension KeyValueStore {
    /// The current storage statistics. O(sectors); no flash access.
    public var storageStats: StorageStats {
        var stats = StorageStats()
        var reserveSkipped = false
        for sector in 0..<sectors.count {
            if !reserveSkipped && sectors.isEmpty(sector) {
                reserveSkipped = true
            } else {
                stats.writableBytes &+= sectors.writableBytes(sector)
            }
            stats.inUseBytes &+= sectors.validBytes(sector)
            stats.reclaimableBytes &+= sectors.reclaimableBytes(sector)
        }
        stats.sectorEraseCount = sectorEraseCount
        stats.corruptSectorsRecovered = corruptSectorsRecovered
        stats.missingRedundantEntriesRecovered = missingRedundantEntriesRecovered
        return stats
    }
}

/// How one sector's bytes are used (from the store's RAM tables).
public struct SectorUsage: Equatable, Sendable {
    /// Bytes of entries the key table points to.
    public var validBytes: Int
    /// Erased bytes at the end of the sector, available for new entries
    /// (0 for a corrupt sector).
    public var writableBytes: Int
    /// Stale, no longer needed or corrupt bytes.
    public var reclaimableBytes: Int
    /// Whether the sector holds corrupt data and receives no new entries
    /// until it is repaired.
    public var isCorrupt: Bool
}

extension KeyValueStore {
    /// How `sector`'s bytes are used. O(1); no flash access.
    /// - Precondition: `0 <= sector < partition.sectorCount`, after ``initialize()``.
    public func usage(ofSector sector: Int) -> SectorUsage {
        SectorUsage(validBytes: sectors.validBytes(sector), writableBytes: sectors.writableBytes(sector),
                    reclaimableBytes: sectors.reclaimableBytes(sector), isCorrupt: sectors.isCorrupt(sector))
    }

    /// The sector most recently opened for new data; placement and garbage
    /// collection search in rotation order starting after it (wear leveling).
    public var wearLevelingOrigin: Int { sectors.lastNewSector }
}
