// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

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
    /// - Complexity: O(1) lookup; reads header and key, then the value (2 reads).
    @discardableResult
    #if !$Embedded
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func get(_ key: Span<UInt8>, into buffer: inout MutableSpan<UInt8>, offset: Int = 0) throws(KVSError) -> Int {
        try checkKey(key)
        guard state != .notInitialized else { throw .failedPrecondition }
        let found = try findExisting(key)
        return try readValueFromFirstGoodCopy(of: found.descriptor, known: found.entry, key: key, into: &buffer,
                                              offset: offset)
    }

    /// The size of `key`'s value.
    /// - Throws: as ``get(_:into:offset:)``, without `.outOfRange` and
    ///   `.resourceExhausted`. The value is not read nor verified.
    public func valueSize(_ key: Span<UInt8>) throws(KVSError) -> Int {
        try checkKey(key)
        guard state != .notInitialized else { throw .failedPrecondition }
        let found = try findExisting(key)
        return try readEntry(found.descriptor, known: found.entry).header.valueSize
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
        let found = try findExisting(key)
        let size = MemoryLayout<Value>.size
        guard try readEntry(found.descriptor, known: found.entry).header.valueSize == size else { throw .invalidArgument }
        // Stack memory in Embedded Swift: no heap allocation.
        return try withUnsafeTemporaryAllocation(
            byteCount: max(size, 1), alignment: MemoryLayout<Value>.alignment
        ) { raw throws(KVSError) in
            var span = raw.bindMemory(to: UInt8.self).extracting(0..<size).mutableSpan
            try get(key, into: &span)
            return raw.loadUnaligned(as: Value.self)
        }
    }

}
