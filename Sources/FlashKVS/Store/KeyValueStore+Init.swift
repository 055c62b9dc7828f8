extension KeyValueStore {
    /// Scans the flash and rebuilds the key and sector tables; the only full
    /// scan. Call before any other operation, and again after the flash was
    /// changed behind the store's back.
    ///
    /// With `.lazy` or `.immediate` recovery, errors found are repaired here
    /// (this may relocate entries, erase corrupt sectors and write missing
    /// copies).
    /// - Throws: `.failedPrecondition` if the partition has fewer than 2 or
    ///   more than `maxSectors` sectors, or sectors over 65534 bytes (the
    ///   store stays uninitialized); `.dataLoss` if errors remain unrepaired:
    ///   the store is then in `.needsMaintenance`, readable but not writable.
    /// - Complexity: reads every entry once (header, key, checksum) plus one
    ///   header per key; O(entries) with O(1) key-table inserts.
    public func initialize() throws(KVSError) {
        state = .notInitialized
        errorDetected = false
        lastTransactionID = 0
        guard partition.sectorCount <= maxSectors, partition.sectorCount >= 2, sectorSize <= 65534 else {
            throw .failedPrecondition
        }
        let result = rebuildMetadata()
        if errorDetected {
            state = .needsMaintenance
            if options.recovery != .manual {
                let recoveredBefore = missingRedundantEntriesRecovered
                if fixErrors() == nil, result == .outOfRange {
                    // Only the redundancy changed: adding copies is not a repair.
                    missingRedundantEntriesRecovered = recoveredBefore
                }
            }
        } else {
            state = .ready
        }
        if errorDetected { throw .dataLoss }
    }

    /// Rebuilds the key and sector tables from flash (pw_kvs
    /// `InitializeMetadata`). Sets `errorDetected` for corrupt entries or
    /// sectors, missing copies and a missing erased sector; never clears it.
    /// - Returns: nil when clean, `.outOfRange` when the only problem is that
    ///   every key has fewer copies than the redundancy, `.failedPrecondition`
    ///   otherwise.
    @discardableResult
    func rebuildMetadata() -> KVSError? {
        let sectorCount = partition.sectorCount
        sectors.reset(count: sectorCount)
        keys.removeAll()
        var foundEmptySector = false
        for sector in 0..<sectorCount {
            scanSector(sector)
            if sectors.isEmpty(sector) { foundEmptySector = true }
        }

        var keysMissingCopies = 0
        var newestAddress: Int? = nil
        for key in 0..<keys.count {
            if keys.addressCount(key) < redundancy { keysMissingCopies += 1 }
            var copy = 0
            while copy < keys.addressCount(key) {
                let address = keys.address(key, copy: copy)
                do {
                    let header = try readHeader(at: address)
                    sectors.addValid(sectors.sector(of: address), header.entrySize)
                    copy += 1
                } catch {
                    errorDetected = true
                    sectors.markCorrupt(sectors.sector(of: address))
                    keys.removeAddress(key, copy: copy)
                }
            }
            if keys.transactionID(key) > lastTransactionID {
                lastTransactionID = keys.transactionID(key)
                let count = keys.addressCount(key)
                if count > 0 { newestAddress = keys.address(key, copy: count - 1) }
            }
        }
        sectors.lastNewSector = newestAddress.map { sectors.sector(of: $0) } ?? 0

        if !foundEmptySector { errorDetected = true }
        if keysMissingCopies > 0 {
            let otherErrors = errorDetected
            errorDetected = true
            if !otherErrors && keysMissingCopies == keys.count { return .outOfRange }
        }
        return errorDetected ? .failedPrecondition : nil
    }

    /// Parses the entries of one sector, adding them to the key table and
    /// setting the sector's writable bytes; skips over corrupt data to the
    /// next plausible header and marks the sector corrupt if any was found.
    private func scanSector(_ sector: Int) {
        let base = sectors.base(of: sector)
        let end = base + sectorSize
        var address = base
        var corruptBytes = 0
        while address < end {
            var next = address
            do throws(KVSError) {
                next = try loadEntry(at: address)
            } catch .notFound {
                break
            } catch {
                errorDetected = true
                guard let found = findNextEntry(after: address, sectorEnd: end) else {
                    corruptBytes += end - address
                    break
                }
                corruptBytes += found - address
                next = found
            }
            address = next
            sectors.setWritable(sector, end - address)
        }
        if corruptBytes > 0 {
            sectors.markCorrupt(sector)
            errorDetected = true
        }
    }

    /// Reads, verifies and records the entry at `address`; returns the
    /// address after it.
    /// - Throws: `.notFound` at erased space; `.dataLoss` for a corrupt
    ///   entry or a copy in the same sector as another copy;
    ///   `.resourceExhausted` if the key table is full; read errors.
    private func loadEntry(at address: Int) throws(KVSError) -> Int {
        // A header that would cross the sector end cannot be an entry.
        guard address % sectorSize + EntryHeader.size <= sectorSize else { throw .notFound }
        let header = try readHeader(at: address)
        let keyLength = try readKey(header, at: address)
        try verifyInFlash(header, at: address)
        let hash = KeyHash.of(lastReadKey(count: keyLength).span)
        try addOrUpdateKey(hash: hash, header: header, address: address)
        return address + header.entrySize
    }

    /// Records an entry found on flash in the key table (pw_kvs
    /// `AddNewOrUpdateExisting`): a newer version replaces the descriptor, a
    /// copy of the current version adds an address, an older one is ignored.
    private func addOrUpdateKey(hash: UInt32, header: EntryHeader, address: Int) throws(KVSError) {
        guard let key = keys.find(hash: hash) else {
            guard !keys.isFull else { throw .resourceExhausted }
            keys.append(hash: hash, transactionID: header.transactionID, keyLength: Int(header.keyLength),
                        deleted: header.isTombstone, address: address)
            return
        }
        let stored = keys.transactionID(key)
        if header.transactionID > stored {
            keys.reset(key, transactionID: header.transactionID, keyLength: Int(header.keyLength),
                       deleted: header.isTombstone, address: address)
        } else if header.transactionID == stored {
            let sector = sectors.sector(of: address)
            for copy in 0..<keys.addressCount(key) where sectors.sector(of: keys.address(key, copy: copy)) == sector {
                throw .dataLoss
            }
            if keys.addressCount(key) < redundancy { keys.addAddress(key, address) }
        }
    }

    /// The next 16-byte-aligned position after `address` in the sector that
    /// starts with a known magic (one 4-byte read per position; read errors
    /// skip the position).
    private func findNextEntry(after address: Int, sectorEnd: Int) -> Int? {
        var candidate = alignUp(address + EntryHeader.size, EntryHeader.size)
        let bytes = scratch.header.buffer
        while candidate < sectorEnd {
            var span = bytes.extracting(0..<4).mutableSpan
            if (try? partition.read(at: candidate, into: &span)) != nil,
               format(magic: EntryHeader.loadUInt32(span.span, 0)) != nil {
                return candidate
            }
            candidate += EntryHeader.size
        }
        return nil
    }
}
