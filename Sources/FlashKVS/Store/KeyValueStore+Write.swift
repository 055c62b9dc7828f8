extension KeyValueStore {
    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// Writes one entry per copy (redundancy), each in a different sector,
    /// garbage-collecting first if the options allow and space is short.
    /// A value byte-identical to the stored one writes nothing.
    /// - Throws: `.invalidArgument` for a bad key, or a value over 65534
    ///   bytes (the header's 16-bit size field) or too large for a sector; `.failedPrecondition` unless ready; `.alreadyExists` if
    ///   another stored key has the same hash; `.resourceExhausted` if the
    ///   key table is full or no space can be found; `.dataLoss` if the
    ///   existing entry cannot be read or a written copy does not verify;
    ///   `.internal` if garbage collection could not empty a sector; or a
    ///   flash error. ``lastWriteState`` says what the call left on flash:
    ///   if the first copy was written and a later copy fails, the error is
    ///   thrown but the new value is stored.
    /// - Complexity: O(1) lookup; when no garbage collection is needed,
    ///   4 flash reads (key, header, old value, verification) and 1 write
    ///   per copy of an entry up to 256 bytes.
    #if !$Embedded  // Embedded builds specialize everything anyway
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func put(_ key: Span<UInt8>, _ value: Span<UInt8>) throws(KVSError) {
        lastWriteState = .notWritten
        try checkKey(key)
        guard state == .ready else { throw .failedPrecondition }
        guard value.count < Int(EntryHeader.tombstoneValueSize),
              alignUp(EntryHeader.size &+ key.count &+ value.count, entryAlignment) <= sectorSize
        else {
            throw .invalidArgument
        }
        let descriptor: Int
        do throws(KVSError) {
            descriptor = try findEntry(key)
        } catch .notFound {
            try writeNewKey(key, value)
            return
        }
        try writeEntry(key: key, value: value, deleted: false, prior: descriptor)
    }

    /// Stores the raw bytes of `value` under `key` (use with plain numeric
    /// types and structs of them; padding bytes are stored as they are).
    /// - Throws: as ``put(_:_:)``.
    public func put<Value: BitwiseCopyable>(_ key: Span<UInt8>, value: Value) throws(KVSError) {
        try withUnsafeBytes(of: value) { raw throws(KVSError) in
            try put(key, raw.assumingMemoryBound(to: UInt8.self).span)
        }
    }

    /// Deletes `key` by writing a tombstone entry.
    /// - Throws: `.invalidArgument` for a bad key; `.failedPrecondition`
    ///   unless ready; `.notFound` if the key is absent or already deleted
    ///   (nothing is written); otherwise as ``put(_:_:)``.
    #if !$Embedded  // Embedded builds specialize everything anyway
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func delete(_ key: Span<UInt8>) throws(KVSError) {
        lastWriteState = .notWritten
        try checkKey(key)
        guard state == .ready else { throw .failedPrecondition }
        let descriptor = try findExisting(key)
        try writeEntry(key: key, value: Span(), deleted: true, prior: descriptor)
    }

    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    private func writeNewKey(_ key: Span<UInt8>, _ value: Span<UInt8>) throws(KVSError) {
        if keys.isFull && options.garbageCollectionOnWrite == .asManySectorsAsNeeded {
            try makeRoomInKeyTable()
        }
        guard !keys.isFull else { throw .resourceExhausted }
        try writeEntry(key: key, value: value, deleted: false, prior: nil)
    }

    /// Writes a new version of a key (pw_kvs `WriteEntry`): reads the
    /// current version's header (`prior`, the key's descriptor; nil for a
    /// new key), reserves space for every copy, takes the next transaction
    /// id, writes copy 0 (the commit point), updates the tables, then
    /// writes the other copies.
    private func writeEntry(
        key: Span<UInt8>, value: Span<UInt8>, deleted: Bool, prior priorDescriptor: Int?
    ) throws(KVSError) {
        let prior: (descriptor: Int, entry: LocatedEntry)?
        if let priorDescriptor { prior = (priorDescriptor, try readEntry(priorDescriptor)) } else { prior = nil }
        if let prior, keys.isDeleted(prior.descriptor) == deleted, valueMatches(prior.entry, value) {
            lastWriteState = .committed
            return
        }
        let size = alignUp(EntryHeader.size &+ key.count &+ (deleted ? 0 : value.count), entryAlignment)
        let knownVersion = prior.map { keys.transactionID($0.descriptor) }
        var header: EntryHeader
        var failedAttempts = 0
        var reservedCopies: Int
        while true {
            do {
                reservedCopies = try reserveAddresses(size: size, replacing: prior.map { ($0.descriptor, $0.entry.header.entrySize) })
            } catch {
                if failedAttempts > 0 { reloadAfterFailedWrite(key, newerThan: knownVersion) }
                throw error
            }
            lastTransactionID &+= 1
            header = makeHeader(key: key, value: value, deleted: deleted, transactionID: lastTransactionID)
            lastWriteState = .uncertain
            do {
                try appendEntry(header, key: key, value: value, at: reserved[0])
                break
            } catch {
                // A program failed, did not verify, or met bytes that were
                // not erased: that sector is now marked for repair, and the
                // entry may or may not be on flash. Write it once more
                // elsewhere, with a new transaction id that supersedes it;
                // after a second failure, rebuild the tables from flash.
                failedAttempts &+= 1
                if failedAttempts == 2 {
                    reloadAfterFailedWrite(key, newerThan: knownVersion)
                    throw error
                }
            }
        }

        let descriptor: Int
        if let prior {
            descriptor = prior.descriptor
            releaseCopies(of: descriptor, size: prior.entry.header.entrySize)
            keys.reset(descriptor, transactionID: header.transactionID, keyLength: key.count, deleted: deleted,
                       address: reserved[0])
        } else {
            descriptor = keys.append(hash: KeyHash.of(key), transactionID: header.transactionID, keyLength: key.count,
                                     deleted: deleted, address: reserved[0])
        }
        lastWriteState = .committed
        for copy in 1..<redundancy {
            var address: Int
            if copy < reservedCopies {
                address = reserved[copy]
            } else {
                // Room made by releasing the prior version (see reserveAddresses).
                let sector = try sectorForWrite(size: size, reservedCount: reservedCopies, avoidingCopiesOf: descriptor)
                address = sectors.nextWritableAddress(sector)
            }
            var retried = false
            while true {
                do {
                    try appendEntry(header, key: key, value: value, at: address)
                    break
                } catch where !retried {
                    // As for the first copy: once more elsewhere, away from the other copies.
                    retried = true
                    let sector = try sectorForWrite(size: size, reservedCount: reservedCopies, avoidingCopiesOf: descriptor)
                    address = sectors.nextWritableAddress(sector)
                }
            }
            keys.addAddress(descriptor, address)
        }
    }

    /// Stops counting `size` bytes of each of `descriptor`'s copies as valid
    /// data of their sectors (its version is being replaced or forgotten).
    @inline(never)  // one copy: smaller device code
    func releaseCopies(of descriptor: Int, size: Int) {
        for copy in 0..<keys.addressCount(descriptor) {
            sectors.removeValid(sectors.sector(of: keys.address(descriptor, copy: copy)), size)
        }
    }

    /// Reserves in `reserved` one address per copy for an entry of
    /// `size` bytes, each in a different sector, garbage-collecting as
    /// allowed. For a new version of a key whose current version (`prior`:
    /// its descriptor and entry size) is on flash, it may stop early, with at least the first
    /// copy reserved, when the other copies fit only once the prior
    /// version's copies are released: a value large next to the sectors
    /// that every sector's live data leaves no room for beside the old
    /// copies. Stopping early is allowed only when each missing copy has a
    /// sector of its own holding a prior copy that, with that copy
    /// released, has room for `size` bytes, and an erased sector exists:
    /// garbage collection can then empty such a sector into the erased one
    /// after the commit (pw_kvs refuses these writes).
    /// - Returns: the number of copies reserved.
    /// - Throws: as ``sectorForWrite(size:reservedCount:avoidingCopiesOf:)``.
    func reserveAddresses(size: Int, replacing prior: (descriptor: Int, entrySize: Int)?) throws(KVSError) -> Int {
        for copy in 0..<redundancy {
            do throws(KVSError) {
                let sector = try sectorForWrite(size: size, reservedCount: copy)
                reserved[copy] = sectors.nextWritableAddress(sector)
            } catch {
                guard error == .resourceExhausted, copy > 0, let prior,
                      roomAfterRelease(of: prior.descriptor, entrySize: prior.entrySize, for: size, reservedCount: copy)
                        >= redundancy &- copy
                else { throw error }
                return copy
            }
        }
        return redundancy
    }

    /// How many sectors holding a copy of `descriptor` (of `entrySize`
    /// bytes), none of the first `reservedCount` reserved addresses',
    /// would have room for `size` bytes once that copy is released; 0
    /// without an erased sector to collect them into. O(redundancy²).
    @inline(never)  // rarely run: kept out of the put path
    private func roomAfterRelease(of descriptor: Int, entrySize: Int, for size: Int, reservedCount: Int) -> Int {
        guard sectors.hasEmptySector else { return 0 }
        var count = 0
        copies: for copy in 0..<keys.addressCount(descriptor) {
            let sector = sectors.sector(of: keys.address(descriptor, copy: copy))
            for other in 0..<reservedCount where sectors.sector(of: reserved[other]) == sector { continue copies }
            if sectors.validBytes(sector) &- entrySize &+ size <= sectorSize { count &+= 1 }
        }
        return count
    }

    /// A sector with room for `size` bytes (pw_kvs `GetSectorForWrite`),
    /// avoiding the first `reservedCount` reserved addresses' sectors (and,
    /// if given, `descriptor`'s copies), garbage-collecting per the options.
    /// - Throws: `.resourceExhausted` if no space can be made; a collection error.
    func sectorForWrite(size: Int, reservedCount: Int, avoidingCopiesOf descriptor: Int? = nil) throws(KVSError) -> Int {
        let avoid = AvoidList(reservedCount: reservedCount, descriptor: descriptor)
        var result = findSpace(size: size, forRelocation: false, avoiding: avoid)
        var rounds = 0
        var collectMore = options.garbageCollectionOnWrite != .disabled
        var repairedCorruptSectors = false
        while result == nil && collectMore {
            if options.garbageCollectionOnWrite == .oneSector { collectMore = false }
            do throws(KVSError) {
                try garbageCollect(avoiding: avoid)
            } catch .notFound {
                throw .resourceExhausted
            } catch .resourceExhausted where !repairedCorruptSectors && options.recovery != .manual {
                // Stuck: a failed copy or erase may have used up the erased
                // sector (make one from duplicates), and corrupt sectors
                // (e.g. debris of an interrupted erase found by an earlier
                // write) hold space: repair them, which may drop copies that
                // live on elsewhere. pw_kvs gives up here.
                repairedCorruptSectors = true
                let recoveredBefore = corruptSectorsRecovered
                let madeErased = !sectors.hasEmptySector
                    && ((try? eraseSectorHoldingOnlyDuplicates(avoiding: avoid)) ?? false)
                _ = collectCorruptSectors(avoiding: avoid)
                guard madeErased || corruptSectorsRecovered != recoveredBefore else { throw .resourceExhausted }
            }
            result = findSpace(size: size, forRelocation: false, avoiding: avoid)
            rounds &+= 1
            if rounds > partition.sectorCount &+ 2 { throw .resourceExhausted }
        }
        guard let result else { throw .resourceExhausted }
        return result
    }

    /// Writes a new entry at `address` and, with `verifyOnWrite`, checks it
    /// on flash; then accounts its bytes to the sector. A failure marks the
    /// sector corrupt and sets `errorDetected`.
    func appendEntry(_ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, at address: Int) throws(KVSError) {
        try placeEntry(header, key: key, value: value, copyingFrom: nil, at: address)
    }

    /// Copies `entry` (with `header`, possibly updated) to `destination` and,
    /// with `verifyOnWrite`, re-reads and verifies the copy; then accounts
    /// its bytes to the destination sector. A failure marks the destination
    /// corrupt and sets `errorDetected`.
    #if $Embedded  // one copy on devices (found by the out-of-line sweep)
    @inline(never)
    #endif
    func copyEntry(_ header: EntryHeader, from source: Int, toSectorAt destination: Int) throws(KVSError) {
        try placeEntry(header, key: Span(), value: Span(), copyingFrom: source, at: destination)
    }

    /// Programs an entry at `address` (from `key` and `value`, or with the
    /// content of the entry at `source`), verifies it with `verifyOnWrite`
    /// (a copy by re-reading its header) and accounts it to its sector; a
    /// failure marks the sector corrupt and sets `errorDetected`.
    @inline(never)  // one copy: smaller device code
    private func placeEntry(
        _ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?, at address: Int
    ) throws(KVSError) {
        let sector = sectors.sector(of: address)
        do {
            try streamEntry(header, key: key, value: value, copyingFrom: source, to: address)
            if options.verifyOnWrite {
                try verifyInFlash(source == nil ? header : try readHeader(at: address), at: address)
            }
        } catch {
            sectors.markCorrupt(sector)
            errorDetected = true
            throw error
        }
        sectors.removeWritable(sector, header.entrySize)
        sectors.addValid(sector, header.entrySize)
    }
}
