// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

extension KeyValueStore {
    /// Garbage-collects one sector with reclaimable bytes, repairing
    /// detected errors first unless recovery is `.manual`. Live data is
    /// never moved just to erase a sector (pw_kvs does, spec 7.2 B7).
    /// - Throws: `.failedPrecondition` before ``initialize()``;
    ///   `.notFound` if nothing is reclaimable; as ``fullMaintenance()``
    ///   when the flash holds unindexed data; a repair or collection error.
    public func partialMaintenance() throws(KVSError) {
        try checkMaintenanceAllowed()
        if checkForErrors() && options.recovery != .manual {
            try repair()
        }
        try reclaimOneSector()
    }

    /// Repairs the store even when the flash holds data it cannot index
    /// (``ScanReport/holdsUnindexedData``): entries of keys beyond
    /// `capacity` and unrecognized bytes are erased. The explicit,
    /// destructive path; normal maintenance refuses to do this.
    /// - Throws: `.failedPrecondition` before ``initialize()``; a repair error.
    public func repairDiscardingUnindexedData() throws(KVSError) {
        guard state != .notInitialized else { throw .failedPrecondition }
        errorDetected = true
        discardingUnindexedData = true
        defer { discardingUnindexedData = false }
        try scanFlashCheckingEmptySectors()  // sectors holding entries that do not fit are marked corrupt
        discardingUnindexedData = false
        if let error = fixErrors() { throw error }
        // The flash now holds only indexed data: rescan so that the report says so.
        try scanFlashCheckingEmptySectors()
        if errorDetected, let error = fixErrors() { throw error }
    }

    /// Throws unless maintenance may write and erase.
    @inline(__always)
    private func checkMaintenanceAllowed() throws(KVSError) {
        guard state != .notInitialized else { throw .failedPrecondition }
        if lastScan.entriesNotLoaded > 0 { throw .resourceExhausted }
        if lastScan.unrecognizedData { throw .failedPrecondition }
    }

    /// Repairs detected errors (in every recovery mode), rewrites entries of
    /// older formats in the primary format, and garbage-collects every
    /// sector that holds only stale data (every sector with anything
    /// reclaimable when the partition is over 70 % in use or entries were
    /// rewritten).
    /// - Throws: `.failedPrecondition` before ``initialize()`` or when the
    ///   flash holds unrecognized data; `.resourceExhausted` when it holds
    ///   more keys than `capacity` (see ``ScanReport/holdsUnindexedData``;
    ///   nothing is erased); the first repair, migration or collection error.
    public func fullMaintenance() throws(KVSError) {
        try prepareFullMaintenance()
        let (migrated, migrationError) = migrateEntriesCollectingError()
        let start = sectors.lastNewSector
        let size = partition.size  // 70 % of it, exactly, without overflow for any partition size
        let threshold = size / 10 &* 7 &+ size % 10 &* 7 / 10
        let pass: CollectionPass = migrated > 0 || sectors.totalValidBytes > threshold ? .reclaimable : .stale
        let collectionError = collectSectors(pass, startingAfter: start, avoiding: AvoidList())
        if let error = migrationError ?? collectionError { throw error }
    }

    /// ``fullMaintenance()``, then also collects every sector with anything
    /// reclaimable and drops deleted keys (their tombstones are erased and
    /// their key-table slots freed). Changes iteration order.
    /// - Throws: as ``fullMaintenance()``.
    public func heavyMaintenance() throws(KVSError) {
        try prepareFullMaintenance()
        let (_, migrationError) = migrateEntriesCollectingError()
        let collectionError = collectEverythingReclaimable()
        if let error = migrationError ?? collectionError { throw error }
    }

    /// Heavy maintenance without format migration: what a put of a new key
    /// runs when the key table is full. It frees the slots of deleted keys;
    /// rewriting other keys in the primary format is left to explicit
    /// maintenance (pw_kvs migrates here too), so firmware that never calls
    /// ``fullMaintenance()`` or ``heavyMaintenance()`` links no migration code.
    /// - Throws: as ``heavyMaintenance()``.
    func makeRoomInKeyTable() throws(KVSError) {
        try prepareFullMaintenance()
        if let error = collectEverythingReclaimable() { throw error }
    }

    /// Checks that maintenance may run, then repairs detected errors (in
    /// every recovery mode).
    @inline(never)
    private func prepareFullMaintenance() throws(KVSError) {
        try checkMaintenanceAllowed()
        if checkForErrors() { try repair() }
    }

    /// The collection of heavy maintenance (after repair and migration):
    /// every sector with anything reclaimable, then, after a complete pass,
    /// deleted keys are forgotten and every sector collected again.
    /// - Returns: the first collection or removal error, or nil.
    private func collectEverythingReclaimable() -> KVSError? {
        let start = sectors.lastNewSector
        if let passError = collectReclaimableSectors(startingAfter: start) { return passError }
        // Deleted keys may only be forgotten once no older version of them
        // is left on flash, i.e. after a complete forced pass (pw_kvs drops
        // them even after a failed pass, spec 7.2 B9).
        var removalError: KVSError? = nil
        do {
            try removeDeletedKeys()
        } catch {
            removalError = error
        }
        let secondPassError = collectReclaimableSectors(startingAfter: start)
        return removalError ?? secondPassError
    }

    /// Collects, in rotation order after `start`, every sector with
    /// reclaimable bytes, moving its live data. Stops at the first failure
    /// and returns it.
    private func collectReclaimableSectors(startingAfter start: Int) -> KVSError? {
        collectSectors(.reclaimable, startingAfter: start, avoiding: AvoidList())
    }

    /// Forgets deleted keys: their entries stop counting as valid, so the
    /// next collection erases them. Must follow a forced collection pass
    /// (no older version of the key may remain on flash).
    @inline(__always)
    private func removeDeletedKeys() throws(KVSError) {
        var descriptor = 0
        while descriptor < keyTable.count {
            guard keyTable.isDeleted(descriptor) else {
                descriptor &+= 1
                continue
            }
            let size = try readEntry(descriptor).header.entrySize
            releaseCopies(of: descriptor, size: size)
            keyTable.remove(descriptor)
        }
    }

    /// ``migrateEntriesToPrimaryFormat()``, its error returned beside the
    /// number of keys rewritten before it.
    private func migrateEntriesCollectingError() -> (migrated: Int, error: KVSError?) {
        do {
            return (try migrateEntriesToPrimaryFormat(), nil)
        } catch {
            return (0, error)
        }
    }

    /// Rewrites every entry whose format is not the primary one, with a new
    /// transaction id, the primary format and the partition's alignment.
    /// - Returns: the number of keys rewritten.
    @inline(__always)
    private func migrateEntriesToPrimaryFormat() throws(KVSError) -> Int {
        var migrated = 0
        let primary = primaryFormat
        for descriptor in 0..<keyTable.count {
            let entry = try readEntry(descriptor)
            if entry.header.magic == primary.magic { continue }
            migrated &+= 1
            lastTransactionID &+= 1
            let header = try entry.updated(to: primary, transactionID: lastTransactionID, alignmentUnits: alignmentUnits)
            _ = try reserveAddresses(size: header.entrySize, replacing: nil)  // every copy
            // Reserving may have garbage-collected the old copy elsewhere
            // (spec 7.2 B12): read its current location again.
            let source = try readEntry(descriptor)
            try copyEntry(source, as: header, to: reserved[0])
            // The old copies' own size (pw_kvs subtracts the new size, spec 7.2 B11).
            releaseCopies(of: descriptor, size: source.header.entrySize)
            keyTable.reset(descriptor, transactionID: header.transactionID, keyLength: Int(header.keyLength),
                       deleted: keyTable.isDeleted(descriptor), address: reserved[0])
            for copy in 1..<redundancy {
                try copyEntry(source, as: header, to: reserved[copy])
                keyTable.addAddress(descriptor, reserved[copy])
            }
        }
        return migrated
    }
}
