// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

extension KeyValueStore {
    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// Writes one entry per copy (redundancy), each in a different sector,
    /// garbage-collecting first if the options allow and space is short
    /// (with `.asManySectorsAsNeeded`, as a last resort, dropping deleted
    /// keys as ``heavyMaintenance()`` does). A value byte-identical to the
    /// stored one writes nothing.
    /// - Throws: `.invalidArgument` for a bad key (with a checksum-free
    ///   format also a key ending in the erased byte), or a value over 65534
    ///   bytes (the header's 16-bit size field) or too large for a sector;
    ///   `.failedPrecondition` unless ready; `.alreadyExists` if
    ///   another stored key has the same hash; `.resourceExhausted` if the
    ///   key table is full or no space can be found; `.dataLoss` if the
    ///   existing entry cannot be read or a written copy does not verify;
    ///   `.internal` if garbage collection could not empty a sector; or a
    ///   flash error. ``lastWriteState`` says what the call left on flash:
    ///   if the first copy was written and a later copy fails, the error is
    ///   thrown but the new value is stored.
    /// - Complexity: O(1) lookup; when no garbage collection is needed,
    ///   3 flash reads (header and key, old value, verification) and 1 write
    ///   per copy of an entry up to 256 bytes.
    #if !$Embedded
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func put(_ key: Span<UInt8>, _ value: Span<UInt8>) throws(KVSError) {
        try writeKey(key, value, deleted: false)
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
    #if !$Embedded
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func delete(_ key: Span<UInt8>) throws(KVSError) {
        try writeKey(key, Span(), deleted: true)
    }

    /// ``put(_:_:)`` and ``delete(_:)`` (`deleted`: a tombstone, for an
    /// existing key only): checks the key, the state and the value's size,
    /// finds the key and writes its new version. Devices keep one copy;
    /// hosts inline it into both for speed.
    #if !$Embedded
    @inline(__always)
    #endif
    private func writeKey(_ key: Span<UInt8>, _ value: Span<UInt8>, deleted: Bool) throws(KVSError) {
        lastWriteState = .notWritten
        try checkKeyToWrite(key)
        guard state == .ready else { throw .failedPrecondition }
        guard deleted || value.count < Int(EntryHeader.tombstoneValueSize)
            && alignUp(EntryHeader.size &+ key.count &+ value.count, entryAlignment) <= sectorSize
        else {
            throw .invalidArgument
        }
        // A write that finds no room and wrote nothing runs once more
        // without the deleted keys (dropped as heavyMaintenance() does:
        // their tombstones hold space, e.g. after a maintenance that an
        // error stopped), if garbage collection may collect as many sectors
        // as needed and a key is deleted; `.resourceExhausted` if dropping fails.
        do throws(KVSError) {
            try writeEntry(key: key, value: value, deleted: deleted)
        } catch .resourceExhausted where lastWriteState == .notWritten && keyTable.deletedCount > 0
            && options.garbageCollectionOnWrite == .asManySectorsAsNeeded
        {
            guard (try? makeRoomInKeyTable()) != nil else { throw .resourceExhausted }
            try writeEntry(key: key, value: value, deleted: deleted)
        }
    }

    /// Makes sure the key table has a slot for a new key: when it is full,
    /// runs heavy maintenance's collection if the options allow.
    /// - Throws: `.resourceExhausted` if the table stays full; a maintenance error.
    @inline(__always)
    private func makeRoomForNewKey() throws(KVSError) {
        if keyTable.isFull && options.garbageCollectionOnWrite == .asManySectorsAsNeeded {
            try makeRoomInKeyTable()
        }
        guard !keyTable.isFull else { throw .resourceExhausted }
    }

    /// Writes a new version of a key (pw_kvs `WriteEntry`): finds the key
    /// (a new key needs a free slot in the key table) and reads its current
    /// version's header (the entry ``findEntry(_:present:)`` read with the
    /// key saves that read), reserves space for every copy, takes the next
    /// transaction id, writes copy 0 (the commit point), updates the
    /// tables, then writes the other copies.
    private func writeEntry(key: Span<UInt8>, value: Span<UInt8>, deleted: Bool) throws(KVSError) {
        var found: (descriptor: Int, entry: Entry<Flash>?)? = nil
        do throws(KVSError) {
            found = try findEntry(key, present: deleted)  // a tombstone only for a present key
        } catch .notFound where !deleted {
            try makeRoomForNewKey()
        }
        // The current version's descriptor and entry size.
        var prior: (descriptor: Int, entrySize: Int)? = nil
        if let found {
            let entry = try readEntry(found.descriptor, known: found.entry)
            if keyTable.isDeleted(found.descriptor) == deleted && entry.valueMatches(value) {
                lastWriteState = .committed
                return
            }
            prior = (found.descriptor, entry.header.entrySize)
        }
        let size = alignUp(EntryHeader.size &+ key.count &+ (deleted ? 0 : value.count), entryAlignment)
        let knownVersion = prior.map { keyTable.transactionID($0.descriptor) }
        // The new version's header; each attempt at the first copy gives it
        // the next transaction id and its checksum.
        var header = EntryHeader(
            magic: primaryFormat.magic, alignmentUnits: alignmentUnits, keyLength: UInt8(truncatingIfNeeded: key.count),
            valueSizeField: deleted ? EntryHeader.tombstoneValueSize : UInt16(truncatingIfNeeded: value.count),
            transactionID: 0)
        var reservedCopies = 0
        var descriptor = 0
        var copy = 0
        var retried = false
        while copy < redundancy {
            // Another copy at its reserved address, else (room made by
            // releasing the prior version, see reserveAddresses; or a retry)
            // in a sector found now, away from the other copies.
            var address = 0
            if copy > 0 {
                address = copy < reservedCopies && !retried
                    ? reserved[copy]
                    : sectors.nextWritableAddress(
                        try sectorForWrite(size: size, reservedCount: reservedCopies, avoidingCopiesOf: descriptor))
            }
            do throws(KVSError) {
                if copy == 0 {
                    // Every copy's address, and a new transaction id (a
                    // retry supersedes a failed copy that may be on flash).
                    reservedCopies = try reserveAddresses(size: size, replacing: prior)
                    lastTransactionID &+= 1
                    header.transactionID = lastTransactionID
                    header.checksumField = primaryFormat.checksumField(for: header, key: key, value: value)
                    lastWriteState = .uncertain
                    address = reserved[0]
                }
                try appendEntry(header, key: key, value: value, at: address)
            } catch {
                // Nothing written yet: the previous version stays.
                if lastWriteState == .notWritten { throw error }
                // A program failed, did not verify, or met bytes that were
                // not erased: that sector is now marked for repair, and the
                // entry may or may not be on flash. Write it once more
                // elsewhere; after a second failure of the first copy (or
                // no room for it), rebuild the tables from flash.
                if retried {
                    if copy == 0 { reloadAfterFailedWrite(key, newerThan: knownVersion) }
                    throw error
                }
                retried = true
                continue
            }
            if copy == 0 {
                // The commit point: the tables now point to the new version.
                if let prior {
                    descriptor = prior.descriptor
                    releaseCopies(of: descriptor, size: prior.entrySize)
                } else {
                    descriptor = keyTable.append(hash: KeyHash.of(key))
                }
                keyTable.reset(descriptor, transactionID: header.transactionID, keyLength: key.count,
                               deleted: deleted, address: address)
                lastWriteState = .committed
            } else {
                keyTable.addAddress(descriptor, address)
            }
            copy &+= 1
            retried = false
        }
    }

}
