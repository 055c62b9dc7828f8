// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

// The store's primitives over one key's copies on flash: finding a key,
// reading the current entry and value from the first good copy, placing
// a new or copied entry and accounting it, finding space that is safe to
// write. Every concern of the store builds on these; they call only Entry,
// Placement, the key and sector tables and FlashIO.

extension KeyValueStore {
    /// Throws `.invalidArgument` unless the key is 1...63 bytes and not
    /// the batches' reserved key (``BatchRecord/key``).
    @inline(__always)
    func checkKey(_ key: Span<UInt8>) throws(KVSError) {
        guard key.count > 0, key.count <= EntryHeader.maxKeyLength, !BatchRecord.isReserved(key) else {
            throw .invalidArgument
        }
    }

    /// ``checkKey(_:)`` for a key about to be written: a store that writes
    /// a format without a checksum also refuses (`.invalidArgument`) a key
    /// whose last byte is the erased byte, because after an interrupted
    /// erase such an entry cannot be told from one whose key the erase cut
    /// through (``Entry/isErasedFromItsKey()``).
    func checkKeyToWrite(_ key: Span<UInt8>) throws(KVSError) {
        try checkKey(key)
        if formats[0].checksum.byteCount == 0 && key[key.count &- 1] == partition.erasedByte { throw .invalidArgument }
    }

    /// Finds the descriptor of `key` (pw_kvs `FindEntry`), deleted or not.
    ///
    /// Confirms the match on flash: reads the header and stored key of the
    /// first copy that can be read and whose key bytes hash to the key's
    /// hash (one read; pw_kvs reads the key alone, then the header again).
    /// A copy whose key bytes read back wrong marks its sector corrupt; a
    /// copy that cannot be read is skipped (a read error is not
    /// corruption). Unlike pw_kvs, a stored key of another length never
    /// matches (spec 7.2 B1).
    /// - Parameter present: whether the key must be present (``findExisting(_:)``):
    ///   a collision or a deleted key then throws `.notFound`.
    /// - Returns: the descriptor, and the confirming copy's entry if its
    ///   header parses (callers use it instead of reading the header again).
    /// - Throws: `.notFound`; `.alreadyExists` if another key has the same
    ///   hash; if no copy is identified, the read error if a copy could not
    ///   be read, else `.dataLoss`.
    #if !$Embedded
    @inline(__always)
    #endif
    func findEntry(_ key: Span<UInt8>, present: Bool = false) throws(KVSError) -> (descriptor: Int, entry: Entry<Flash>?) {
        let hash = KeyHash.of(key)
        let collision: KVSError = present ? .notFound : .alreadyExists
        guard let descriptor = keyTable.find(hash: hash) else { throw .notFound }
        guard keyTable.keyLength(descriptor) == key.count else { throw collision }
        var failure: KVSError? = nil
        var bytes = InlineArray<80, UInt8>(repeating: 0)  // header and the longest key
        var whole = bytes.mutableSpan
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            copy &+= 1
            var span = whole._mutatingExtracting(first: EntryHeader.size &+ key.count)
            do {
                try io.read(at: address, into: &span)
            } catch {
                failure = failure ?? error
                continue
            }
            let stored = span.span.extracting(EntryHeader.size...)
            if bytesEqual(stored, key) {
                guard !present || !keyTable.isDeleted(descriptor) else { throw .notFound }
                return (descriptor, try? Entry(parsing: span.span, at: address, in: io))
            }
            // Another key with the same hash, or this key's bytes damaged.
            if KeyHash.of(stored) == hash { throw collision }
            markCorrupt(sectors.sector(of: address))
        }
        throw failure ?? .dataLoss
    }

    /// ``findEntry(_:present:)`` for keys that must be present: a collision or a
    /// deleted key throws `.notFound`.
    @inline(__always)
    func findExisting(_ key: Span<UInt8>) throws(KVSError) -> (descriptor: Int, entry: Entry<Flash>?) {
        try findEntry(key, present: true)
    }

    /// ``readEntry(_:)``, or `known` (the entry ``findEntry(_:)`` read with
    /// the key) if there is one.
    func readEntry(_ descriptor: Int, known: Entry<Flash>?) throws(KVSError) -> Entry<Flash> {
        if let known { return known }
        return try readEntry(descriptor)
    }

    /// The header of the first copy of `descriptor` that reads and parses
    /// (pw_kvs `ReadEntry`); a copy that reads but does not parse marks its
    /// sector corrupt, a copy that cannot be read is skipped.
    /// - Throws: a read error if a copy could not be read, else `.dataLoss`.
    func readEntry(_ descriptor: Int) throws(KVSError) -> Entry<Flash> {
        var failure: KVSError? = nil
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            copy &+= 1
            let readsBefore = failedReads
            do {
                return try Entry(readingAt: address, in: io)
            } catch {
                noteFailedCopy(at: address, error, readsBefore: readsBefore, failure: &failure)
            }
        }
        throw failure ?? .dataLoss
    }

    /// Marks `sector` corrupt, so that nothing more is appended to it and
    /// the next repair collects it, and sets ``errorDetected``.
    @inline(never)
    func markCorrupt(_ sector: Int) {
        sectors.markCorrupt(sector)
        errorDetected = true
    }

    /// Records why a copy at `address` failed: a read error (reads failed
    /// since `readsBefore`) becomes `failure` (the first one is kept); bad
    /// data marks the sector corrupt and leaves `failure` alone (the caller
    /// throws `.dataLoss` when no copy could be read at all).
    @inline(never)
    func noteFailedCopy(at address: Int, _ error: KVSError, readsBefore: Int, failure: inout KVSError?) {
        if failedReads != readsBefore {
            failure = failure ?? error
        } else {
            markCorrupt(sectors.sector(of: address))
        }
    }

    /// Reads the value of `descriptor` from the first copy that reads,
    /// parses and verifies. A copy whose header does not parse, or whose
    /// complete value fails the checksum, marks its sector corrupt (for
    /// repair); a copy that cannot be read is skipped; the next is tried.
    /// `known` (from ``findEntry(_:)``) saves its copy's header read.
    /// - Throws: as ``get(_:into:offset:)``: a read error if a copy could
    ///   not be read and no other copy is good, else `.dataLoss`.
    #if !$Embedded
    @inline(__always)
    #endif
    func readValueFromFirstGoodCopy(
        of descriptor: Int, known: Entry<Flash>?, key: Span<UInt8>, into buffer: inout MutableSpan<UInt8>, offset: Int
    ) throws(KVSError) -> Int {
        var failure: KVSError? = nil
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            copy &+= 1
            let readsBefore = failedReads
            do throws(KVSError) {
                let entry: Entry<Flash>
                if let known, known.address == address { entry = known } else { entry = try Entry(readingAt: address, in: io) }
                return try readVerifiedValue(entry, key: key, into: &buffer, offset: offset)
            } catch .outOfRange {
                throw .outOfRange
            } catch .resourceExhausted {
                throw .resourceExhausted
            } catch {
                noteFailedCopy(at: address, error, readsBefore: readsBefore, failure: &failure)
            }
        }
        throw failure ?? .dataLoss
    }

    /// Reads `entry`'s value and, for a complete read from offset 0 with
    /// `verifyOnRead`, checks it against the checksum.
    @inline(__always)
    func readVerifiedValue(
        _ entry: Entry<Flash>, key: Span<UInt8>, into buffer: inout MutableSpan<UInt8>, offset: Int
    ) throws(KVSError) -> Int {
        let count = try entry.readValue(into: &buffer, offset: offset)
        if options.verifyOnRead && offset == 0 && !entry.checksumMatches(key: key, value: buffer.span.extracting(0..<count)) {
            var read = buffer._mutatingExtracting(first: count)
            read.update(repeating: 0)
            throw .dataLoss
        }
        return count
    }

    /// Stops counting `size` bytes of each of `descriptor`'s copies as valid
    /// data of their sectors (its version is being replaced or forgotten).
    @inline(never)
    func releaseCopies(of descriptor: Int, size: Int) {
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            sectors.removeValid(sectors.sector(of: address), size)
            copy &+= 1
        }
    }

    /// Writes a new entry at `address` and, with `verifyOnWrite`, checks it
    /// on flash; then accounts its bytes to the sector. A failure marks the
    /// sector corrupt and sets `errorDetected`.
    /// - Throws: as ``Entry/program(_:key:value:copyingFrom:to:in:verifying:)``.
    func appendEntry(_ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, at address: Int) throws(KVSError) {
        try placeEntry(header, key: key, value: value, copyingFrom: nil, at: address)
    }

    /// Copies `entry` under `header` (its own, or an updated one) to
    /// `destination` and, with `verifyOnWrite`, re-reads and verifies the
    /// copy; then accounts its bytes to the destination sector. A failure
    /// marks the destination corrupt and sets `errorDetected`.
    /// - Throws: as ``Entry/program(_:key:value:copyingFrom:to:in:verifying:)`` and ``Entry/verifyAfterHeaderRead()``.
    func copyEntry(_ entry: Entry<Flash>, as header: EntryHeader, to destination: Int) throws(KVSError) {
        try placeEntry(header, key: Span(), value: Span(), copyingFrom: entry.address, at: destination)
    }

    /// The two operations above in one function (one copy of the failure
    /// handling and accounting).
    @inline(never)
    private func placeEntry(
        _ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?, at address: Int
    ) throws(KVSError) {
        let sector = sectors.sector(of: address)
        do {
            // A new entry is compared chunk by chunk as it is programmed; a
            // copy is checked by its checksum afterwards, so that a source
            // damaged since it was last read is caught too.
            try Entry.program(header, key: key, value: value, copyingFrom: source, to: address, in: io,
                              verifying: source == nil && options.verifyOnWrite)
            if source != nil && options.verifyOnWrite { _ = try Entry(readingAt: address, in: io).verifyAfterHeaderRead() }
        } catch {
            markCorrupt(sector)
            throw error
        }
        sectors.removeWritable(sector, header.entrySize)
        sectors.addValid(sector, header.entrySize)
    }

    /// The placement policy over the store's tables.
    var placement: Placement { Placement(sectors: sectors, keyTable: keyTable, reserved: reserved) }

    /// ``Placement/findSpace(size:avoiding:)``, skipping sectors that fail
    /// ``prepareEmptySector(_:)`` (each is marked corrupt: at most one search per sector).
    func findSpace(size: Int, avoiding avoid: AvoidList) -> Int? {
        while let sector = placement.findSpace(size: size, avoiding: avoid) {
            if prepareEmptySector(sector) { return sector }
        }
        return nil
    }

    /// ``Placement/findSpaceDuringGarbageCollection(size:avoiding:)``,
    /// skipping sectors that fail ``prepareEmptySector(_:)``.
    func findSpaceDuringGarbageCollection(size: Int, avoiding avoid: AvoidList) -> Int? {
        while let sector = placement.findSpaceDuringGarbageCollection(size: size, avoiding: avoid) {
            if prepareEmptySector(sector) { return sector }
        }
        return nil
    }

    /// Before the first write into `sector`, if it is an empty sector the
    /// scan did not read through (``SectorTable/isUnverifiedEmpty(_:)``):
    /// reads it, and erases it if any byte is not erased (it holds nothing
    /// the store indexes: the debris of an interrupted erase or write).
    /// - Returns: false if it could not be read or erased; it is then
    ///   marked corrupt (collected, i.e. erased, by the next repair).
    /// - Complexity: nothing for other sectors; else reads the sector once
    ///   (first use after init only) and erases it if needed.
    #if $Embedded
    @inline(__always)
    #endif
    func prepareEmptySector(_ sector: Int) -> Bool {
        guard sectors.isUnverifiedEmpty(sector) else { return true }
        let base = sectors.base(of: sector)
        do {
            if try !io.isErased(from: base, to: base &+ sectorSize) { try io.eraseSector(at: base) }
            sectors.setVerified(sector, true)
            return true
        } catch {
            markCorrupt(sector)
            return false
        }
    }
}
