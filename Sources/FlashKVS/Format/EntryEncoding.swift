// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

// Encoding and checking whole entries held in RAM, for tools and tests.
// The store itself streams entries to and from flash (Entry, Entry+Writing).
extension EntryFormat {
    /// The checksum field value for an entry with `header`, `key` and
    /// `value` (the value is ignored for a tombstone). Covers the header
    /// with its checksum field zeroed, key, value and zero padding.
    public func checksumField(for header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>) -> UInt32 {
        checksum.fieldValue(checksumState(header, key: key, value: header.isTombstone ? Span() : value))
    }

    /// The final checksum state over an entry held in RAM.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func checksumState(_ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>) -> UInt32 {
        if checksum.byteCount == 0 { return 0 }
        #if !$Embedded
        if case .crc16 = checksum.kind {
            let padding = header.entrySize &- EntryHeader.size &- key.count &- value.count
            return UInt32(CRC16.entry(header.encoded(zeroChecksum: true).span, key, value, padding: padding))
        }
        #endif
        var state = checksum.update(checksum.initialState, header.encoded(zeroChecksum: true).span)
        state = checksum.update(state, key)
        state = checksum.update(state, value)
        return checksum.updateWithZeros(state, count: header.entrySize - EntryHeader.size - key.count - value.count)
    }

    /// The bytes of a complete entry in this format, as the store writes it.
    /// - Parameters:
    ///   - value: the value (ignored for a tombstone).
    ///   - deleted: whether to encode a tombstone (a deleted key).
    ///   - alignment: the partition alignment (the entry aligns to it
    ///     rounded up to 16).
    /// - Complexity: allocates the entry; O(entry size).
    public func encodedEntry(
        key: Span<UInt8>, value: Span<UInt8>, deleted: Bool = false, transactionID: UInt32, alignment: Int = 16
    ) -> [UInt8] {
        var header = EntryHeader(
            magic: magic, alignmentUnits: EntryHeader.alignmentUnits(forPartitionAlignment: alignment),
            keyLength: UInt8(truncatingIfNeeded: key.count),
            valueSizeField: deleted ? EntryHeader.tombstoneValueSize : UInt16(truncatingIfNeeded: value.count),
            transactionID: transactionID)
        header.checksumField = checksumField(for: header, key: key, value: value)
        var bytes = [UInt8](repeating: 0, count: header.entrySize)
        var span = bytes.mutableSpan
        header.encode(into: &span)
        for index in 0..<key.count { span[EntryHeader.size + index] = key[index] }
        if !header.isTombstone {
            for index in 0..<value.count { span[EntryHeader.size + key.count + index] = value[index] }
        }
        return bytes
    }

    /// Whether a whole entry as stored on flash (header, key, value and
    /// padding) passes this format's checksum. Padding bytes count, as in
    /// the store's on-flash verification.
    /// - Returns: false if the bytes are shorter than the header's entry size.
    public func verifyEntry(_ bytes: Span<UInt8>) -> Bool {
        guard bytes.count >= EntryHeader.size else { return false }
        let header = EntryHeader(decoding: bytes)
        guard bytes.count >= header.entrySize else { return false }
        if checksum.byteCount == 0 { return header.checksumField == 0 }
        var state = checksum.update(checksum.initialState, header.encoded(zeroChecksum: true).span)
        state = checksum.update(state, bytes.extracting(EntryHeader.size..<header.entrySize))
        return checksum.matches(field: header.checksumField, state: state)
    }
}
