// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

extension KeyValueStore {
    /// Looks for known problems: a corrupt sector, or (with redundancy) a
    /// key with missing copies; records them in ``errorDetected``.
    /// - Returns: ``errorDetected``. O(sectors + keys); no flash access.
    @discardableResult
    public func checkForErrors() -> Bool {
        if corruptSectorCount > 0 { errorDetected = true }
        if redundancy > 1 {
            for descriptor in 0..<keyTable.count where keyTable.addressCount(descriptor) < redundancy { errorDetected = true }
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
    @inline(__always)
    func repair() throws(KVSError) {
        try scanFlashCheckingEmptySectors()
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
        if firstError == nil { firstError = ensureErasedSectorExists() }
        if firstError == nil {
            errorDetected = false
            state = .ready
        }
        return firstError
    }

    /// With batches enabled (``enableBatches()``), rolls back a torn batch
    /// if the flash holds one; sets ``errorDetected`` while one remains.
    /// - Returns: whether a torn batch remains. O(1) without batches.
    @inline(never)
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
        // Each retry but the first must leave fewer corrupt sectors than the
        // one before: at most one retry per sector.
        while firstError == .resourceExhausted && freeSectorError == nil {
            let corruptBefore = corruptSectorCount
            firstError = repairCorruptSectors()
            freeSectorError = ensureErasedSectorExists()
            if corruptSectorCount >= corruptBefore { break }
        }
        let redundancyError = ensureRedundancy()
        return firstError ?? freeSectorError ?? redundancyError
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

    /// Writes missing copies of every key that has fewer than `redundancy`.
    @inline(__always)
    private func ensureRedundancy() -> KVSError? {
        guard redundancy > 1 else { return nil }
        var firstError: KVSError? = nil
        for descriptor in 0..<keyTable.count where keyTable.addressCount(descriptor) < redundancy {
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
        _ = try entry.verifyAfterHeaderRead()
        let size = entry.header.entrySize
        var retried = false
        while keyTable.addressCount(descriptor) < redundancy {
            let sector = try sectorForWrite(size: size, reservedCount: 0, avoidingCopiesOf: descriptor)
            let destination = sectors.nextWritableAddress(sector)
            // Making space may have moved the source copy (spec 7.2 B12).
            let source = try readEntry(descriptor)
            do {
                try copyEntry(source, as: source.header, to: destination)
            } catch where !retried {
                retried = true  // the destination is now marked corrupt: try once more elsewhere
                continue
            }
            keyTable.addAddress(descriptor, destination)
        }
    }

    /// Rebuilds the tables from flash and, unless recovery is manual or the
    /// flash holds unindexed data, repairs what the scan found; sets
    /// ``state`` (`.needsMaintenance` while errors remain).
    /// - Throws: the read error if the flash cannot be read (the store is
    ///   then `.notInitialized`).
    func rebuildAndRepair() throws(KVSError) {
        let onlyCopiesMissing = try scanFlash()
        // A torn batch left unresolved sets errorDetected: never ready with one.
        resolveTornBatch()
        if errorDetected {
            state = .needsMaintenance
            if options.recovery != .manual && !lastScan.holdsUnindexedData {
                let recoveredBefore = missingRedundantEntriesRecovered
                if fixErrors() == nil, onlyCopiesMissing {
                    // Only the redundancy changed: adding copies is not a repair.
                    missingRedundantEntriesRecovered = recoveredBefore
                }
            }
        } else {
            state = .ready
        }
    }

    /// After a put or delete whose first copy failed twice, the flash may
    /// or may not hold the new version: rebuilds the tables from flash (and
    /// repairs per the options), so that reads return what a restart would
    /// read, and sets ``lastWriteState`` to what the rescan found (it stays
    /// `.uncertain` if the flash cannot be read).
    /// - Parameter version: the key's transaction id before the write (nil
    ///   for a new key).
    #if $Embedded
    @inline(__always)
    #endif
    func reloadAfterFailedWrite(_ key: Span<UInt8>, newerThan version: UInt32?) {
        errorDetected = false
        guard (try? rebuildAndRepair()) != nil else { return }
        guard let descriptor = keyTable.find(hash: KeyHash.of(key)) else {
            lastWriteState = .notWritten
            return
        }
        var isNewer = true
        if let version { isNewer = keyTable.transactionID(descriptor) > version }
        lastWriteState = isNewer ? .committed : .notWritten
    }
}
