extension KeyValueStore {
    /// Scans the flash and rebuilds the key and sector tables; the only full
    /// scan. Call before any other operation, and again after the flash was
    /// changed behind the store's back.
    ///
    /// With `.lazy` or `.immediate` recovery, errors found are repaired here
    /// (this may relocate entries, erase corrupt sectors and write missing
    /// copies) — except when the flash holds data the store cannot index
    /// (see ``ScanReport/holdsUnindexedData``): then nothing is written or
    /// erased. ``lastScan`` says what was found.
    /// - Throws: `.failedPrecondition` if the partition has more than
    ///   `maxSectors` sectors, or no more sectors than `redundancy` (the
    ///   copies of an entry go to distinct sectors and one sector stays
    ///   erased for garbage collection: at least 2, and redundancy + 1), or
    ///   sectors over 65534 bytes (the store stays uninitialized); the read
    ///   error if the flash keeps failing to read (likewise); otherwise, with the store left in
    ///   `.needsMaintenance` (readable, not writable):
    ///   `.resourceExhausted` if the flash holds more keys than `capacity`;
    ///   `.failedPrecondition` if nothing on the written flash parses (wrong
    ///   magic or checksum?) or some entries are of a format not configured;
    ///   `.dataLoss` if other errors remain unrepaired.
    /// - Complexity: reads every entry once (header, then the rest in one
    ///   read per 256 bytes), one header per key, and the erased tail of
    ///   partly written sectors; O(entries) with O(1) key-table inserts.
    #if !$Embedded  // Embedded builds specialize everything anyway
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func initialize() throws(KVSError) {
        state = .notInitialized
        errorDetected = false
        lastTransactionID = 0
        guard partition.sectorCount <= maxSectors, partition.sectorCount >= max(2, redundancy &+ 1),
              sectorSize <= 65534 else {
            throw .failedPrecondition
        }
        try load()
        if lastScan.entriesNotLoaded > 0 { throw .resourceExhausted }
        if lastScan.unrecognizedData { throw .failedPrecondition }
        if errorDetected { throw .dataLoss }
    }

    /// Rebuilds the tables from flash and, unless recovery is manual or the
    /// flash holds unindexed data, repairs what the scan found; sets
    /// ``state`` (`.needsMaintenance` while errors remain).
    /// - Throws: the read error if the flash cannot be read (the store is
    ///   then `.notInitialized`).
    private func load() throws(KVSError) {
        let onlyCopiesMissing = try scanFlash(deep: false)
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
    func reloadAfterFailedWrite(_ key: Span<UInt8>, newerThan version: UInt32?) {
        errorDetected = false
        guard (try? load()) != nil else { return }
        guard let descriptor = keys.find(hash: KeyHash.of(key)) else {
            lastWriteState = .notWritten
            return
        }
        var isNewer = true
        if let version { isNewer = keys.transactionID(descriptor) > version }
        lastWriteState = isNewer ? .committed : .notWritten
    }

    /// ``rebuildMetadata(deep:)``, repeated (twice at most) while flash
    /// reads fail, so that a read error is never taken for corruption.
    /// `errorDetected` reflects the last scan, plus what was known before.
    /// - Returns: whether the only problem found is that keys have fewer
    ///   copies than the redundancy.
    /// - Throws: the read error if the last scan still saw a read fail
    ///   twice; the tables are then incomplete and the store is left
    ///   `.notInitialized` (``initialize()`` again once the flash reads).
    @discardableResult
    func scanFlash(deep: Bool) throws(KVSError) -> Bool {
        let knownErrors = errorDetected
        var result = rebuildMetadata(deep: deep)
        var rescans = 0
        while lastScan.failedReads > 0 && rescans < 2 {
            rescans &+= 1
            errorDetected = knownErrors
            result = rebuildMetadata(deep: deep)
        }
        lastScan.rescans = rescans
        if lastScan.failedReads > 0 {
            state = .notInitialized
            throw lastReadError
        }
        return result == .outOfRange
    }

    /// Rebuilds the key and sector tables from flash (pw_kvs
    /// `InitializeMetadata`) and fills ``lastScan``. Sets `errorDetected`
    /// for corrupt entries or sectors, gaps, keys that do not fit, missing
    /// copies and a missing erased sector; never clears it.
    /// - Parameter deep: also check that sectors whose first header is
    ///   erased are erased throughout (repair does; init trusts them).
    /// - Returns: nil when clean, `.outOfRange` when the only problem is that
    ///   every key has fewer copies than the redundancy, `.failedPrecondition`
    ///   otherwise.
    @discardableResult
    func rebuildMetadata(deep: Bool = false) -> KVSError? {
        let sectorCount = partition.sectorCount
        sectors.reset(count: sectorCount)
        keys.removeAll()
        lastScan = ScanReport()
        let failedReadsBefore = failedReads
        defer { lastScan.failedReads = failedReads &- failedReadsBefore }
        var foundEmptySector = false
        var parsedEntries = 0
        for sector in 0..<sectorCount {
            parsedEntries &+= scanSector(sector, deep: deep)
            if sectors.isEmpty(sector) { foundEmptySector = true }
            if sectors.isCorrupt(sector) { lastScan.corruptSectors &+= 1 }
        }
        // Nothing parses: another configuration's data, unless all there is
        // could be one interrupted write of this store (a single failed
        // entry whose magic could be a damaged known one).
        let oneTornWrite = lastScan.corruptEntries &+ lastScan.gapsFound == 1 && lastScan.corruptSectors == 1
            && !lastScan.sawUnknownMagic
        if parsedEntries == 0 && lastScan.corruptSectors > 0 && !oneTornWrite {
            lastScan.unrecognizedData = true
        }

        var keysMissingCopies = 0
        var newestID: UInt32 = 0
        var newestAddress: Int? = nil
        for key in 0..<keys.count {
            if keys.addressCount(key) < redundancy { keysMissingCopies &+= 1 }
            var copy = 0
            while copy < keys.addressCount(key) {
                let address = keys.address(key, copy: copy)
                do {
                    let header = try readHeader(at: address)
                    sectors.addValid(sectors.sector(of: address), header.entrySize)
                    copy &+= 1
                } catch {
                    errorDetected = true
                    sectors.markCorrupt(sectors.sector(of: address))
                    keys.removeAddress(key, copy: copy)
                }
            }
            // The newest key's last copy sets the wear-leveling origin. Unlike
            // pw_kvs (spec 7.2 B15) this also holds when a repair rebuilds
            // the tables while the transaction count is kept.
            let count = keys.addressCount(key)
            if keys.transactionID(key) > newestID && count > 0 {
                newestID = keys.transactionID(key)
                newestAddress = keys.address(key, copy: count &- 1)
            }
        }
        lastTransactionID = max(lastTransactionID, newestID)
        sectors.lastNewSector = newestAddress.map { sectors.sector(of: $0) } ?? 0
        lastScan.keysMissingCopies = keysMissingCopies

        if !foundEmptySector {
            errorDetected = true
            lastScan.noErasedSector = true
        }
        if keysMissingCopies > 0 {
            let otherErrors = errorDetected
            errorDetected = true
            if !otherErrors && keysMissingCopies == keys.count { return .outOfRange }
        }
        return errorDetected ? .failedPrecondition : nil
    }

    /// An entry that parsed and verified, not yet in the key table.
    struct LoadedEntry {
        var hash: UInt32
        var header: EntryHeader
        var address: Int
    }

    /// Parses the entries of one sector, adding them to the key table and
    /// setting the sector's writable bytes; skips over corrupt data to the
    /// next plausible header and marks the sector corrupt if any was found.
    ///
    /// The last entry before the sector's erased space is the only one a
    /// power cut can have left half-programmed; it is read twice more and
    /// accepted only if both reads agree (unstable bits flicker).
    /// - Returns: the number of entries that parsed and verified.
    private func scanSector(_ sector: Int, deep: Bool) -> Int {
        let base = sectors.base(of: sector)
        let end = base &+ sectorSize
        var address = base
        var corruptBytes = 0
        var parsed = 0
        var pending: LoadedEntry? = nil
        var reachedErasedSpace = false
        while address < end {
            let loaded: LoadedEntry?
            do throws(KVSError) {
                loaded = try loadEntry(at: address)
            } catch .notFound {
                // Erased space ends the sector, if the rest is erased too
                // (pw_kvs stops here unchecked and loses entries after a gap).
                if address == base && !deep {
                    sectors.setVerified(sector, false)
                    reachedErasedSpace = true
                    break
                }
                if (try? isErased(from: address, to: end)) ?? false {
                    reachedErasedSpace = true
                    break
                }
                lastScan.gapsFound &+= 1
                loaded = nil
            } catch {
                lastScan.corruptEntries &+= 1
                loaded = nil
            }
            // The previous entry is not the last one before erased space.
            if let previous = pending { corruptBytes &+= record(previous) }
            pending = loaded
            if let loaded {
                parsed &+= 1
                address &+= loaded.header.entrySize
            } else {
                // Corrupt bytes up to the next plausible header.
                errorDetected = true
                let found = skipCorruptData(at: address, sectorEnd: end)
                corruptBytes &+= (found ?? end) &- address
                guard let found else { break }
                address = found
            }
            sectors.setWritable(sector, end &- address)
        }
        if let last = pending {
            let frontier = reachedErasedSpace || last.address &+ last.header.entrySize == end
            if frontier && !isStable(last) {
                lastScan.corruptEntries &+= 1
                errorDetected = true
                corruptBytes &+= last.header.entrySize
                parsed &-= 1
            } else {
                corruptBytes &+= record(last)
            }
        }
        if corruptBytes > 0 {
            sectors.markCorrupt(sector)
            errorDetected = true
        }
        return parsed
    }

    /// Whether two more reads of the entry return the same bytes.
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    func isStable(_ entry: LoadedEntry) -> Bool {
        guard let first = try? fingerprint(at: entry.address, count: entry.header.entrySize),
              let second = try? fingerprint(at: entry.address, count: entry.header.entrySize)
        else { return false }
        return first == second
    }

    /// FNV-1a (32-bit) of `count` flash bytes at `address` (reads of up to
    /// 256 bytes).
    private func fingerprint(at address: Int, count: Int) throws(KVSError) -> UInt32 {
        var buffer = ChunkBuffer(repeating: 0)
        var whole = buffer.mutableSpan
        var hash: UInt32 = 0x811C_9DC5
        var offset = 0
        while offset < count {
            let length = min(ChunkBuffer.count, count &- offset)
            var span = whole._mutatingExtracting(first: length)
            try readFlash(at: address &+ offset, into: &span)
            for index in 0..<length { hash = (hash ^ UInt32(span[index])) &* 0x0100_0193 }
            offset &+= length
        }
        return hash
    }

    /// Reads and verifies the entry at `address` (one header read, then the
    /// rest of the entry in reads of up to 256 bytes).
    /// - Throws: `.notFound` at erased space; `.dataLoss` for a corrupt
    ///   entry; read errors.
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    func loadEntry(at address: Int) throws(KVSError) -> LoadedEntry {
        // A header that would cross the sector end cannot be an entry.
        guard address % sectorSize &+ EntryHeader.size <= sectorSize else { throw .notFound }
        let header = try readHeader(at: address)
        guard header.keyLength > 0 else { throw .dataLoss }
        let hash = try verifyInFlash(header, at: address, headerAlreadyRead: true)
        return LoadedEntry(hash: hash, header: header, address: address)
    }

    /// Records a loaded entry in the key table (pw_kvs
    /// `AddNewOrUpdateExisting`): a newer version replaces the descriptor, a
    /// copy of the current version adds an address, an older one is ignored.
    /// A second copy in the same sector counts as corrupt; a key that does
    /// not fit the table sets ``ScanReport/entriesNotLoaded``.
    /// - Returns: bytes to count as corrupt (the entry, if it is).
    private func record(_ entry: LoadedEntry) -> Int {
        let header = entry.header
        guard let key = keys.find(hash: entry.hash) else {
            if !keys.isFull {
                keys.append(hash: entry.hash, transactionID: header.transactionID, keyLength: Int(header.keyLength),
                            deleted: header.isTombstone, address: entry.address)
                return 0
            }
            errorDetected = true
            // A valid entry whose key does not fit the key table: never erase
            // this flash (see ScanReport.entriesNotLoaded), unless asked to.
            if discardingUnindexedData { return header.entrySize }
            lastScan.entriesNotLoaded &+= 1
            return 0
        }
        let stored = keys.transactionID(key)
        if header.transactionID > stored {
            keys.reset(key, transactionID: header.transactionID, keyLength: Int(header.keyLength),
                       deleted: header.isTombstone, address: entry.address)
        } else if header.transactionID == stored {
            let sector = sectors.sector(of: entry.address)
            for copy in 0..<keys.addressCount(key) where sectors.sector(of: keys.address(key, copy: copy)) == sector {
                lastScan.corruptEntries &+= 1
                errorDetected = true
                return header.entrySize
            }
            if keys.addressCount(key) < redundancy { keys.addAddress(key, entry.address) }
        }
        return 0
    }

    /// Skips the data at `address`, where no entry loads, and finds the
    /// next 16-byte-aligned position in the sector that starts with a
    /// known magic. If the data at `address` looks like another format's
    /// entry (``isForeignEntry(_:at:sectorEnd:)``),
    /// notes it in ``ScanReport/unrecognizedData``; if its magic cannot be
    /// a known one (or cannot be read), in `sawUnknownMagic`.
    /// - Returns: that position, or nil. One 16-byte read, then one 4-byte
    ///   read per position; a read error skips the position.
    private func skipCorruptData(at address: Int, sectorEnd: Int) -> Int? {
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        var whole = bytes.mutableSpan
        var candidate = address
        while candidate < sectorEnd {
            let atStart = candidate == address
            var span = whole._mutatingExtracting(first: atStart ? EntryHeader.size : 4)
            if (try? readFlash(at: candidate, into: &span)) != nil {
                if !atStart {
                    if format(magic: EntryHeader.loadUInt32(span.span, 0)) != nil { return candidate }
                } else {
                    let header = EntryHeader(decoding: span.span)
                    if !EntryFormat.couldBeDamagedMagic(header.magic, ofAnyOf: formats) {
                        lastScan.sawUnknownMagic = true
                        if isForeignEntry(header, at: address, sectorEnd: sectorEnd) {
                            lastScan.unrecognizedData = true
                        }
                    }
                }
            } else if atStart {
                lastScan.sawUnknownMagic = true
            }
            candidate = alignUp(candidate &+ EntryHeader.size, EntryHeader.size)
        }
        return nil
    }

    /// Whether `header`, read at `address` where no entry of this store
    /// loads, starts another format's entries rather than random damage
    /// (``EntryHeader/isOfAnotherFormat(than:offset:sectorSize:nextMagic:erasedByte:)``):
    /// reads the 4 bytes where its size says the next entry starts.
    private func isForeignEntry(_ header: EntryHeader, at address: Int, sectorEnd: Int) -> Bool {
        let next = address &+ header.entrySize
        var nextMagic: UInt32? = nil
        if next &+ 4 <= sectorEnd && header.fits(offset: address % sectorSize, sectorSize: sectorSize) {
            var bytes = InlineArray<4, UInt8>(repeating: 0)
            var span = bytes.mutableSpan
            guard (try? readFlash(at: next, into: &span)) != nil else { return true }  // unreadable: not erasable
            nextMagic = EntryHeader.loadUInt32(span.span, 0)
        }
        return header.isOfAnotherFormat(
            than: formats, offset: address % sectorSize, sectorSize: sectorSize, nextMagic: nextMagic,
            erasedByte: partition.erasedByte)
    }

    /// Whether all bytes in `start..<end` are erased (reads of up to 256 bytes).
    ///
    /// Not inlined into scanSector: its chunk would stay on the stack during entry verification.
    func isErased(from start: Int, to end: Int) throws(KVSError) -> Bool {
        let erased = partition.erasedByte
        var buffer = ChunkBuffer(repeating: 0)
        var whole = buffer.mutableSpan
        var address = start
        while address < end {
            let length = min(ChunkBuffer.count, end &- address)
            var span = whole._mutatingExtracting(first: length)
            try readFlash(at: address, into: &span)
            for index in 0..<length where span[index] != erased { return false }
            address &+= length
        }
        return true
    }
}
