// Writing a batch's records and rolling back a torn batch (Docs/BATCHES.md).
// Layer (Docs/ARCHITECTURE.md): below Recovery, which runs the rollback
// through `resolveTornBatch()`; calls only GarbageCollection, Copies,
// Entry, FlashIO, Placement and the tables. The commit path (+Batch,
// +BatchPlan) sits beside Write and calls down into this file.
extension KeyValueStore {
    /// Enables ``commit(_:)``: from now on every scan of the flash
    /// (``initialize()``, and the rebuild after a failed write) rolls back
    /// a torn batch before anything else is repaired. Call it before
    /// ``initialize()``, on every start, in firmware that uses batches;
    /// firmware that never calls it links no batch code.
    public func enableBatches() {
        mutable.pointee.batchRecovery = { store in store.rollBackTornBatch() }
    }

    // MARK: Writing

    /// Reserves one address per copy for `size` bytes without garbage
    /// collection (each copy in its own sector, one erased sector kept;
    /// with `useReserve`, a rollback may also take that sector).
    /// - Throws: `.resourceExhausted`.
    private func reserveBatchAddresses(size: Int, useReserve: Bool) throws(KVSError) {
        for copy in 0..<redundancy {
            let avoid = AvoidList(reservedCount: copy)
            guard let sector = findSpace(size: size, avoiding: avoid)
                ?? (useReserve ? findSpaceDuringGarbageCollection(size: size, avoiding: avoid) : nil)
            else { throw .resourceExhausted }
            reserved[copy] = sectors.nextWritableAddress(sector)
        }
    }

    /// Writes one record of a batch with exactly `transactionID` (no
    /// retry under another id, no garbage collection): every copy, copy 0
    /// first, then the tables. A failure leaves the tables to be rebuilt.
    /// - Throws: `.resourceExhausted` (no space or key slot), a read or
    ///   write error. Flash: for a key on flash, one read of its header and
    ///   key; one entry programmed (and, with `verifyOnWrite`, read back)
    ///   per copy.
    func writeBatchEntry(
        _ key: Span<UInt8>, _ value: Span<UInt8>, deleted: Bool, transactionID: UInt32, useReserve: Bool = false
    ) throws(KVSError) {
        var prior: Entry<Flash>? = nil
        var descriptor: Int? = nil
        do throws(KVSError) {
            let found = try findEntry(key)
            descriptor = found.descriptor
            prior = try readEntry(found.descriptor, known: found.entry)
        } catch .notFound {}
        if descriptor == nil && keyTable.isFull { throw .resourceExhausted }
        let header = Entry<Flash>.header(
            key: key, value: value, deleted: deleted, format: primaryFormat, alignmentUnits: alignmentUnits,
            transactionID: transactionID)
        try reserveBatchAddresses(size: header.entrySize, useReserve: useReserve)
        lastTransactionID = max(lastTransactionID, transactionID)
        try appendEntry(header, key: key, value: value, at: reserved[0])
        let updated: Int
        if let descriptor, let prior {
            releaseCopies(of: descriptor, size: prior.header.entrySize)
            updated = descriptor
        } else {
            updated = keyTable.append(hash: KeyHash.of(key))
        }
        keyTable.reset(updated, transactionID: transactionID, keyLength: key.count, deleted: deleted,
                       address: reserved[0])
        for copy in 1..<max(redundancy, 1) {
            try appendEntry(header, key: key, value: value, at: reserved[copy])
            keyTable.addAddress(updated, reserved[copy])
        }
    }

    // MARK: Rollback

    /// Run after every scan and around every repair once
    /// ``enableBatches()`` was called (``resolveTornBatch()``): if the
    /// newest record under the reserved key is an intent (a batch without
    /// its commit), writes again, for every member that is its key's
    /// newest version, the version before the batch (a tombstone where
    /// there was none), with ids past the batch's; then collects corrupt
    /// sectors (debris of the cut: a torn member must not read valid later)
    /// and writes the resolution record. Idempotent: a cut during it leaves
    /// the intent newest, and the members already rolled back have ids
    /// outside the batch's range. When it cannot finish (no space left
    /// without collecting a sector that holds a version still needed,
    /// corrupt sectors it may not or cannot collect, a flash error), it sets
    /// ``errorDetected`` and leaves the intent newest: the repair that
    /// follows makes room and calls it again (``fixErrors()``), and the
    /// store is not ready until it finished. Nothing happens when the flash
    /// holds data the store cannot index.
    /// - Returns: whether the torn batch remains unresolved.
    /// - Complexity: O(keys) when no batch is torn; else one read of every
    ///   entry on flash, and 1 + members (+ 1) entries written per copy.
    func rollBackTornBatch() -> Bool {
        mutable.pointee.batchesChecked = true
        guard !lastScan.holdsUnindexedData, let record = keyTable.find(hash: BatchRecord.keyHash),
              !keyTable.isDeleted(record), let intent = readIntent(record)
        else { return false }
        let intentID = keyTable.transactionID(record)
        lastTransactionID = max(lastTransactionID, intent.commitTransactionID)
        var members = InlineArray<16, Int>(repeating: 0)
        var memberCount = 0
        for descriptor in 0..<keyTable.count
        where descriptor != record && memberCount < 16 && intent.isMember(keyTable.transactionID(descriptor))
            && keyTable.addressCount(descriptor) > 0 {
            members[memberCount] = descriptor
            memberCount &+= 1
        }
        var priors = InlineArray<16, Int>(repeating: -1)
        if memberCount > 0 { findPriorVersions(of: members, memberCount, before: intentID, into: &priors) }
        var index = 0
        var collections = 0
        var useReserve = false
        while index < memberCount {
            do throws(KVSError) {
                try restore(members[index], from: priors[index], useReserve: useReserve)
                index &+= 1
            } catch .resourceExhausted where !useReserve {
                // Stuck: collect a sector that holds no prior version still
                // needed, else take the erased reserve (repaired afterwards).
                if collections <= partition.sectorCount && collectSparingPriors(priors, from: index, memberCount) {
                    collections &+= 1
                } else {
                    useReserve = true
                }
            } catch {
                errorDetected = true
                return true  // the intent stays newest: the repair, or the next scan, tries again
            }
        }
        // Every member is restored: the versions before the batch are no
        // longer needed, any sector may be collected now.
        var debris = false
        for sector in 0..<partition.sectorCount where sectors.isCorrupt(sector) { debris = true }
        if debris && (options.recovery == .manual || collectCorruptSectors(avoiding: AvoidList()) != nil) {
            errorDetected = true
            return true  // resolved once the repair has collected the debris
        }
        let key = BatchRecord.key
        do throws(KVSError) {
            try writeBatchEntry(key.span, Span(), deleted: true, transactionID: lastTransactionID &+ 1)
        } catch .resourceExhausted {
            do throws(KVSError) {
                try writeBatchEntry(key.span, Span(), deleted: true, transactionID: lastTransactionID &+ 1,
                                    useReserve: true)
            } catch {
                errorDetected = true
                return true
            }
        } catch {
            errorDetected = true
            return true
        }
        // The reserve sector taken: the repair that follows makes a new one.
        if !sectors.hasEmptySector { errorDetected = true }
        return false
    }

    /// Makes room for the rollback when it is stuck: garbage-collects a
    /// sector that holds none of the prior versions still to be restored
    /// (`priors[first...]`: they are stale, and collecting their sector
    /// would erase them), trying first those without live data (an erase,
    /// nothing to move), then by reclaimable bytes, largest first.
    /// - Returns: whether a sector was collected.
    private func collectSparingPriors(_ priors: InlineArray<16, Int>, from first: Int, _ count: Int) -> Bool {
        var tried = InlineArray<64, Bool>(repeating: false)
        while true {
            var best: Int? = nil
            sectors: for sector in 0..<partition.sectorCount
            where sectors.reclaimableBytes(sector) > 0 && (sector >= 64 || !tried[sector]) {
                for index in first..<max(count, first)
                where priors[index] >= 0 && sectors.sector(of: priors[index]) == sector {
                    continue sectors
                }
                guard let current = best else {
                    best = sector
                    continue
                }
                let empty = sectors.validBytes(sector) == 0, currentEmpty = sectors.validBytes(current) == 0
                if (empty && !currentEmpty)
                    || (empty == currentEmpty && sectors.reclaimableBytes(sector) > sectors.reclaimableBytes(current)) {
                    best = sector
                }
            }
            guard let best else { return false }
            if (try? garbageCollectSector(best, avoiding: AvoidList())) != nil { return true }
            guard best < 64 else { return false }
            tried[best] = true
        }
    }

    /// The intent stored in `descriptor`'s value, or nil if it cannot be
    /// read or is not a version-1 intent (then nothing is rolled back).
    private func readIntent(_ descriptor: Int) -> BatchRecord.Intent? {
        var bytes = InlineArray<12, UInt8>(repeating: 0)
        var span = bytes.mutableSpan
        guard let entry = try? readEntry(descriptor), entry.header.valueSize == BatchRecord.valueSize,
              (try? entry.readValue(into: &span, offset: 0)) == BatchRecord.valueSize
        else { return nil }
        return BatchRecord.Intent(decoding: span.span)
    }

    /// For each member descriptor, the address of the newest entry of its
    /// key older than `intentID` that loads (checksum verified), or -1.
    /// One walk over every sector (16-byte steps over damaged data).
    private func findPriorVersions(
        of members: InlineArray<16, Int>, _ memberCount: Int, before intentID: UInt32,
        into priors: inout InlineArray<16, Int>
    ) {
        var priorIDs = InlineArray<16, UInt32>(repeating: 0)
        for sector in 0..<partition.sectorCount {
            let end = sectors.base(of: sector) &+ sectorSize
            var address = sectors.base(of: sector)
            while address &+ EntryHeader.size <= end {
                let loaded: (entry: Entry<Flash>, keyHash: UInt32)
                do throws(KVSError) {
                    loaded = try Entry.load(at: address, in: io)
                } catch .notFound {
                    if (try? io.isErased(from: address, to: end)) ?? false { break }
                    address &+= EntryHeader.size
                    continue
                } catch {
                    address &+= EntryHeader.size
                    continue
                }
                let id = loaded.entry.header.transactionID
                for index in 0..<memberCount
                where keyTable.hash(members[index]) == loaded.keyHash && id < intentID
                    && keyTable.keyLength(members[index]) == Int(loaded.entry.header.keyLength)
                    && (priors[index] < 0 || id > priorIDs[index]) {
                    priors[index] = address
                    priorIDs[index] = id
                }
                address &+= loaded.entry.header.entrySize
            }
        }
    }

    /// Writes `prior`'s key and value again (a tombstone if `prior` is -1
    /// or a tombstone) as `descriptor`'s newest version, with the next
    /// transaction id, every copy; with `useReserve`, may take the erased
    /// reserve sector.
    private func restore(_ descriptor: Int, from prior: Int, useReserve: Bool) throws(KVSError) {
        let current = try readEntry(descriptor)
        var keyBytes = InlineArray<64, UInt8>(repeating: 0)
        var keySpan = keyBytes.mutableSpan
        let keyLength = try current.readKey(into: &keySpan)
        var header: EntryHeader
        var source: Entry<Flash>? = nil
        let id = lastTransactionID &+ 1
        if prior >= 0, let priorEntry = try? Entry(readingAt: prior, in: io), !priorEntry.header.isTombstone {
            header = try priorEntry.updated(to: primaryFormat, transactionID: id, alignmentUnits: alignmentUnits)
            source = priorEntry
        } else {
            header = Entry<Flash>.header(
                key: keySpan.span.extracting(0..<keyLength), value: Span(), deleted: true, format: primaryFormat,
                alignmentUnits: alignmentUnits, transactionID: id)
        }
        try reserveBatchAddresses(size: header.entrySize, useReserve: useReserve)
        lastTransactionID = id
        for copy in 0..<redundancy {
            if let source {
                try copyEntry(source, as: header, to: reserved[copy])
            } else {
                try appendEntry(header, key: keySpan.span.extracting(0..<keyLength), value: Span(), at: reserved[copy])
            }
            if copy == 0 {
                releaseCopies(of: descriptor, size: current.header.entrySize)
                keyTable.reset(descriptor, transactionID: id, keyLength: keyLength, deleted: header.isTombstone,
                           address: reserved[0])
            } else {
                keyTable.addAddress(descriptor, reserved[copy])
            }
        }
    }
}
