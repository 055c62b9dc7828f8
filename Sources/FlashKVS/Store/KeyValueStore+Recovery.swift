extension KeyValueStore {
    /// Looks for known problems: a corrupt sector, or (with redundancy) a
    /// key with missing copies; records them in ``errorDetected``.
    /// - Returns: ``errorDetected``. O(sectors + keys); no flash access.
    @discardableResult
    public func checkForErrors() -> Bool {
        if corruptSectorCount > 0 { errorDetected = true }
        if redundancy > 1 {
            for descriptor in 0..<keys.count where keys.addressCount(descriptor) < redundancy { errorDetected = true }
        }
        return errorDetected
    }

    /// Rebuilds the tables from flash (checking that empty-looking sectors
    /// are erased throughout), then fixes what was found — unless the flash
    /// holds data the store cannot index, which a repair would erase.
    /// - Throws: the read error if the flash cannot be read (the store is
    ///   then `.notInitialized`); `.resourceExhausted` or
    ///   `.failedPrecondition` for unindexed data (nothing is written); the
    ///   first repair error.
    func repair() throws(KVSError) {
        try scanFlash(deep: true)
        if lastScan.entriesNotLoaded > 0 { throw .resourceExhausted }
        if lastScan.unrecognizedData { throw .failedPrecondition }
        if let error = fixErrors() { throw error }
    }

    /// Collects corrupt sectors, makes sure an erased sector exists and
    /// restores missing copies; on success clears ``errorDetected`` and
    /// makes the store ready.
    /// - Returns: the first error, or nil.
    ///
    /// When corrupt sectors cannot be collected for lack of space (e.g. after
    /// a power cut during an earlier repair), the repair is retried after an
    /// erased sector was made, while that makes progress (at most once per
    /// sector; pw_kvs gives up and stays in error).
    ///
    /// With batches enabled, a torn batch is rolled back first (while the
    /// versions before it are still on flash) and, if that could not finish
    /// for lack of space, again once the repair made room; the store is not
    /// made ready while a torn batch remains (`.dataLoss`).
    @discardableResult
    func fixErrors() -> KVSError? {
        let batchTorn = resolveTornBatch()
        var firstError = repairFoundErrors()
        if batchTorn && firstError == nil && resolveTornBatch() { firstError = .dataLoss }
        if firstError == nil, !sectors.hasEmptySector { firstError = ensureErasedSectorExists() }
        if firstError == nil {
            errorDetected = false
            state = .ready
        }
        return firstError
    }

    /// With batches enabled (``enableBatches()``), rolls back a torn batch
    /// if the flash holds one; sets ``errorDetected`` while one remains.
    /// - Returns: whether a torn batch remains. O(1) without batches.
    @inline(__always)
    @discardableResult
    func resolveTornBatch() -> Bool {
        guard let rollBack = mutable.pointee.batchRecovery else { return false }
        return rollBack(self)
    }

    /// The repair steps of ``fixErrors()``.
    private func repairFoundErrors() -> KVSError? {
        // Repairs need an erased sector to relocate into: make one first.
        let earlyError = ensureErasedSectorExists()
        var firstError = repairCorruptSectors() ?? earlyError
        var freeSectorError = ensureErasedSectorExists()
        var rounds = 0
        while firstError == .resourceExhausted && freeSectorError == nil && rounds < partition.sectorCount {
            let corruptBefore = corruptSectorCount
            firstError = repairCorruptSectors()
            freeSectorError = ensureErasedSectorExists()
            rounds &+= 1
            if corruptSectorCount >= corruptBefore { break }
        }
        if let error = freeSectorError { firstError = firstError ?? error }
        if let error = ensureRedundancy() { firstError = firstError ?? error }
        return firstError
    }

    private var corruptSectorCount: Int {
        var count = 0
        for sector in 0..<sectors.count where sectors.isCorrupt(sector) { count &+= 1 }
        return count
    }

    /// Garbage-collects every corrupt sector (relocating the keys it holds,
    /// then erasing it), in up to two passes: a second one after any error
    /// (its result replaces a first `.resourceExhausted`).
    private func repairCorruptSectors() -> KVSError? {
        let first = collectCorruptSectors(avoiding: AvoidList())
        guard let first else { return nil }
        let second = collectCorruptSectors(avoiding: AvoidList())
        return first == .resourceExhausted ? second : first
    }

    /// Makes an erased sector if none is: erases one that holds only stale
    /// data or copies that exist elsewhere
    /// (``eraseSectorHoldingOnlyDuplicates()``), else garbage-collects one.
    private func ensureErasedSectorExists() -> KVSError? {
        guard !sectors.hasEmptySector else { return nil }
        do {
            if try !eraseSectorHoldingOnlyDuplicates() { try garbageCollect(avoiding: AvoidList()) }
        } catch {
            return error
        }
        return nil
    }

    /// Recovers an erased sector without copying anything, as needed after
    /// garbage collection was cut between copying a sector's live entries
    /// and erasing it (the copies filled the last erased sector; pw_kvs
    /// stays read-only there for good). Erases the first sector, in
    /// rotation order, that holds no live data, or else whose every live
    /// copy has an identical verified copy (same key, same transaction id,
    /// bytes that read the same twice) in a sector holding no other copy of
    /// that key: the key table is pointed at those copies first. The sector
    /// the interrupted collection copied into always qualifies. Sectors in
    /// `avoid` (those of a write's reserved addresses) are left alone.
    /// - Returns: whether a sector was erased.
    /// - Throws: the erase error. O(sectors) passes over the flash's
    ///   entries, each read and verified; recovery only.
    func eraseSectorHoldingOnlyDuplicates(avoiding avoid: AvoidList = AvoidList()) throws(KVSError) -> Bool {
        let count = sectors.count
        // First a sector without live data, then one whose live copies all
        // have duplicates.
        for pass in 0..<2 {
            for step in 0..<count {
                let sector = (sectors.lastNewSector &+ 1 &+ step) % count
                guard !sectors.isEmpty(sector), (pass == 1) == (sectors.validBytes(sector) > 0),
                      !isAvoided(sector, avoid) else { continue }
                if pass == 1 {
                    for other in 0..<count where other != sector { pointCopies(in: sector, atDuplicatesIn: other) }
                    guard sectors.validBytes(sector) == 0 else { continue }
                }
                let wasCorrupt = sectors.isCorrupt(sector)
                try garbageCollectSector(sector, avoiding: AvoidList())
                if wasCorrupt { corruptSectorsRecovered &+= 1 }
                return true
            }
        }
        return false
    }

    /// For each entry of `other` that loads, verifies and reads the same
    /// twice more (a torn copy's bits may flicker), and is the current
    /// version of a key with a copy in `sector` and none in `other`: points
    /// that copy at the entry instead.
    private func pointCopies(in sector: Int, atDuplicatesIn other: Int) {
        let end = sectors.base(of: other) &+ sectorSize
        var address = sectors.base(of: other)
        while address < end {
            guard let entry = try? loadEntry(at: address) else {
                address &+= EntryHeader.size  // past corrupt or unreadable bytes, to the next possible entry
                continue
            }
            address &+= entry.header.entrySize
            guard let descriptor = keys.find(hash: entry.hash),
                  keys.transactionID(descriptor) == entry.header.transactionID,
                  !hasCopy(descriptor, in: other), hasCopy(descriptor, in: sector), isStable(entry) else { continue }
            for copy in 0..<keys.addressCount(descriptor)
            where sectors.sector(of: keys.address(descriptor, copy: copy)) == sector {
                keys.replaceAddress(descriptor, copy: copy, with: entry.address)
                sectors.removeValid(sector, entry.header.entrySize)
                sectors.addValid(other, entry.header.entrySize)
                break
            }
        }
    }

    /// Writes missing copies of every key that has fewer than `redundancy`.
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    private func ensureRedundancy() -> KVSError? {
        guard redundancy > 1 else { return nil }
        var firstError: KVSError? = nil
        for descriptor in 0..<keys.count where keys.addressCount(descriptor) < redundancy {
            do {
                try addMissingCopies(descriptor)
                missingRedundantEntriesRecovered &+= 1
            } catch {
                firstError = firstError ?? error
            }
        }
        return firstError
    }

    /// Copies a key's verified entry, unchanged, into new sectors until it
    /// has `redundancy` copies.
    private func addMissingCopies(_ descriptor: Int) throws(KVSError) {
        let entry = try readEntry(descriptor)
        try verifyInFlash(entry.header, at: entry.address)
        var retried = false
        while keys.addressCount(descriptor) < redundancy {
            let sector = try sectorForWrite(size: entry.header.entrySize, reservedCount: 0, avoidingCopiesOf: descriptor)
            let destination = sectors.nextWritableAddress(sector)
            // Making space may have moved the source copy (spec 7.2 B12).
            let source = try readEntry(descriptor)
            do {
                try copyEntry(source.header, from: source.address, toSectorAt: destination)
            } catch where !retried {
                retried = true  // the destination is now marked corrupt: try once more elsewhere
                continue
            }
            keys.addAddress(descriptor, destination)
        }
    }
}
