extension KeyValueStore {
    /// Reads the value of `key` from `offset` into `buffer`.
    ///
    /// A complete read from offset 0 is verified against the entry's
    /// checksum (with `verifyOnRead`). A copy that fails verification is
    /// marked for repair and the next copy is read instead (pw_kvs returns
    /// `.dataLoss` there, spec 7.2 B2).
    /// - Returns: the number of bytes read (the value size minus `offset`).
    /// - Throws: `.invalidArgument` for an empty key or one over 63 bytes;
    ///   `.failedPrecondition` before ``initialize()``; `.notFound` if the
    ///   key is absent or deleted (never for a read error); `.outOfRange` if
    ///   `offset` is past the value; `.resourceExhausted` if the value does
    ///   not fit: `buffer` then holds its first `buffer.count` bytes; the
    ///   flash's read error if a read failed twice and no other copy is
    ///   good; `.dataLoss` if every copy was read and none is intact (the
    ///   bytes read are zeroed).
    /// - Complexity: O(1) lookup; reads key, header and value (3 reads).
    @discardableResult
    #if !$Embedded  // Embedded builds specialize everything anyway
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func get(_ key: Span<UInt8>, into buffer: inout MutableSpan<UInt8>, offset: Int = 0) throws(KVSError) -> Int {
        try checkKey(key)
        guard state != .notInitialized else { throw .failedPrecondition }
        let descriptor = try findExisting(key)
        return try readValue(of: descriptor, key: key, into: &buffer, offset: offset)
    }

    /// The size of `key`'s value.
    /// - Throws: as ``get(_:into:offset:)``, without `.outOfRange` and
    ///   `.resourceExhausted`. The value is not read nor verified.
    public func valueSize(_ key: Span<UInt8>) throws(KVSError) -> Int {
        try checkKey(key)
        guard state != .notInitialized else { throw .failedPrecondition }
        return try readEntry(try findExisting(key)).header.valueSize
    }

    /// Reads a value stored as the raw bytes of a `Value` (see
    /// ``put(_:value:)``).
    /// - Throws: `.invalidArgument` if the stored size differs from
    ///   `MemoryLayout<Value>.size`, or a bad key; otherwise as
    ///   ``get(_:into:offset:)``. Works in `.needsMaintenance` too (pw_kvs
    ///   refuses it there, spec 7.2 B6).
    public func get<Value: BitwiseCopyable>(_ key: Span<UInt8>, as type: Value.Type = Value.self) throws(KVSError) -> Value {
        try checkKey(key)
        guard state != .notInitialized else { throw .failedPrecondition }
        let descriptor = try findExisting(key)
        let size = MemoryLayout<Value>.size
        guard try readEntry(descriptor).header.valueSize == size else { throw .invalidArgument }
        // Stack memory in Embedded Swift: no heap allocation.
        return try withUnsafeTemporaryAllocation(
            byteCount: max(size, 1), alignment: MemoryLayout<Value>.alignment
        ) { raw throws(KVSError) in
            var span = raw.bindMemory(to: UInt8.self).extracting(0..<size).mutableSpan
            try get(key, into: &span)
            return raw.loadUnaligned(as: Value.self)
        }
    }

    /// Throws `.invalidArgument` unless the key is 1...63 bytes and not
    /// the batches' reserved key (``BatchRecord/key``).
    @inline(__always)
    func checkKey(_ key: Span<UInt8>) throws(KVSError) {
        guard key.count > 0, key.count <= EntryHeader.maxKeyLength, !BatchRecord.isReserved(key) else {
            throw .invalidArgument
        }
    }

    /// Finds the descriptor of `key` (pw_kvs `FindEntry`), deleted or not.
    ///
    /// Confirms the match on flash: reads the stored key of the first copy
    /// that can be read and whose key bytes hash to the key's hash. A copy
    /// whose key bytes read back wrong marks its sector corrupt; a copy that
    /// cannot be read is skipped (a read error is not corruption). Unlike
    /// pw_kvs, a stored key of another length never matches (spec 7.2 B1).
    /// - Throws: `.notFound`; `.alreadyExists` if another key has the same
    ///   hash; if no copy is identified, the read error if a copy could not
    ///   be read, else `.dataLoss`.
    func findEntry(_ key: Span<UInt8>) throws(KVSError) -> Int {
        let hash = KeyHash.of(key)
        guard let descriptor = keys.find(hash: hash) else { throw .notFound }
        guard keys.keyLength(descriptor) == key.count else { throw .alreadyExists }
        var failure: KVSError? = nil
        var bytes = InlineArray<64, UInt8>(repeating: 0)
        var stored = bytes.mutableSpan
        for copy in 0..<keys.addressCount(descriptor) {
            let address = keys.address(descriptor, copy: copy)
            var span = stored._mutatingExtracting(first: key.count)
            do {
                try readFlash(at: address &+ EntryHeader.size, into: &span)
            } catch {
                failure = failure ?? error
                continue
            }
            if KeyHash.of(span.span) == hash {
                for index in 0..<key.count where span[index] != key[index] { throw .alreadyExists }
                return descriptor
            }
            sectors.markCorrupt(sectors.sector(of: address))
            errorDetected = true
        }
        throw failure ?? .dataLoss
    }

    /// ``findEntry(_:)`` for keys that must be present: a collision or a
    /// deleted key throws `.notFound`.
    func findExisting(_ key: Span<UInt8>) throws(KVSError) -> Int {
        let descriptor: Int
        do throws(KVSError) {
            descriptor = try findEntry(key)
        } catch .alreadyExists {
            throw .notFound
        }
        guard !keys.isDeleted(descriptor) else { throw .notFound }
        return descriptor
    }

    /// The header of the first copy of `descriptor` that reads and parses
    /// (pw_kvs `ReadEntry`); a copy that reads but does not parse marks its
    /// sector corrupt, a copy that cannot be read is skipped.
    /// - Throws: a read error if a copy could not be read, else `.dataLoss`.
    func readEntry(_ descriptor: Int) throws(KVSError) -> LocatedEntry {
        var failure: KVSError? = nil
        for copy in 0..<keys.addressCount(descriptor) {
            let address = keys.address(descriptor, copy: copy)
            let readsBefore = failedReads
            do {
                return LocatedEntry(header: try readHeader(at: address), address: address)
            } catch {
                noteFailedCopy(at: address, error, readsBefore: readsBefore, failure: &failure)
            }
        }
        throw failure ?? .dataLoss
    }

    /// Records why a copy at `address` failed: a read error (reads failed
    /// since `readsBefore`) becomes `failure` (the first one is kept); bad
    /// data marks the sector corrupt and leaves `failure` alone (the caller
    /// throws `.dataLoss` when no copy could be read at all).
    @inline(never)  // one copy: smaller device code
    func noteFailedCopy(at address: Int, _ error: KVSError, readsBefore: Int, failure: inout KVSError?) {
        if failedReads != readsBefore {
            failure = failure ?? error
        } else {
            sectors.markCorrupt(sectors.sector(of: address))
            errorDetected = true
        }
    }

    /// Reads the value of `descriptor` from the first copy that reads,
    /// parses and verifies. A copy whose header does not parse, or whose
    /// complete value fails the checksum, marks its sector corrupt (for
    /// repair); a copy that cannot be read is skipped; the next is tried.
    /// - Throws: as ``get(_:into:offset:)``: a read error if a copy could
    ///   not be read and no other copy is good, else `.dataLoss`.
    func readValue(
        of descriptor: Int, key: Span<UInt8>, into buffer: inout MutableSpan<UInt8>, offset: Int
    ) throws(KVSError) -> Int {
        var failure: KVSError? = nil
        for copy in 0..<keys.addressCount(descriptor) {
            let address = keys.address(descriptor, copy: copy)
            let readsBefore = failedReads
            do throws(KVSError) {
                let entry = LocatedEntry(header: try readHeader(at: address), address: address)
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
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    func readVerifiedValue(
        _ entry: LocatedEntry, key: Span<UInt8>, into buffer: inout MutableSpan<UInt8>, offset: Int
    ) throws(KVSError) -> Int {
        let count = try readValue(entry, into: &buffer, offset: offset)
        if options.verifyOnRead && offset == 0 && !verifyInMemory(entry.header, key: key, value: buffer.span.extracting(0..<count)) {
            for index in 0..<count { buffer[index] = 0 }
            throw .dataLoss
        }
        return count
    }
}
