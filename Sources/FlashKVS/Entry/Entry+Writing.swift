// Code size: new and copied entries share one `program` (two copies of it
// cost 0.6 kB), which devices inline into its one caller,
// `KeyValueStore.placeEntry` (out of line itself); `updated(to:transactionID:alignmentUnits:)`
// has one caller and is inlined. Docs/EMBEDDED.md, "Code size".
// Speed: hosts copy key and value into the chunk with `copyMemory` (a
// third of a put's instructions went to the byte loop); devices keep the
// loop, which links no `memmove` (0.2 kB).

extension Entry {
    /// A header for a new entry of `key` and `value` (a tombstone if
    /// `deleted`) in `format`, checksum included. No flash access.
    static func header(
        key: Span<UInt8>, value: Span<UInt8>, deleted: Bool, format: EntryFormat, alignmentUnits: UInt8,
        transactionID: UInt32
    ) -> EntryHeader {
        var header = EntryHeader(
            magic: format.magic, alignmentUnits: alignmentUnits, keyLength: UInt8(truncatingIfNeeded: key.count),
            valueSizeField: deleted ? EntryHeader.tombstoneValueSize : UInt16(truncatingIfNeeded: value.count),
            transactionID: transactionID)
        header.checksumField = format.checksumField(for: header, key: key, value: value)
        return header
    }

    /// This entry's header moved to `format` with a new transaction id and
    /// `alignmentUnits` (pw_kvs `Entry::Update`); its checksum is recomputed
    /// over the key and value read from flash (32-byte reads; none without
    /// checksum).
    /// - Throws: the read error.
    @inline(__always)
    func updated(to format: EntryFormat, transactionID: UInt32, alignmentUnits: UInt8) throws(KVSError) -> EntryHeader {
        var header = self.header
        header.magic = format.magic
        header.alignmentUnits = alignmentUnits
        header.transactionID = transactionID
        header.checksumField = 0
        let checksum = format.checksum
        guard checksum.byteCount > 0 else { return header }
        var state = checksum.update(checksum.initialState, header.encoded(zeroChecksum: true).span)
        var chunk = InlineArray<32, UInt8>(repeating: 0)
        var whole = chunk.mutableSpan
        var offset = 0
        while offset < header.contentSize {
            let length = min(32, header.contentSize &- offset)
            var part = whole._mutatingExtracting(first: length)
            try io.read(at: address &+ EntryHeader.size &+ offset, into: &part)
            state = checksum.update(state, part.span)
            offset &+= length
        }
        state = checksum.updateWithZeros(state, count: header.entrySize &- EntryHeader.size &- header.contentSize)
        header.checksumField = checksum.fieldValue(state)
        return header
    }

    /// Programs an entry at `address`, padded to `header`'s alignment: a
    /// new one, `header`, `key` and `value` (nothing for a tombstone;
    /// pw_kvs `Entry::Write`), or, with a `source`, the key and value of
    /// the entry there, read from flash into each chunk (one read per
    /// chunk), under `header` (the source's, or an
    /// ``updated(to:transactionID:alignmentUnits:)`` one; pw_kvs
    /// `Entry::Copy`). Chunks are 256 bytes rounded down to the alignment,
    /// as pw_kvs writes them; the last one of a part is zero-padded to the
    /// alignment.
    ///
    /// With `verifying`, each chunk is read back right after its program
    /// and compared with the bytes meant for it (reads of up to 64 bytes):
    /// verification on write for an entry built in RAM, stronger than its
    /// checksum (pw_kvs re-reads and checks the checksum); the chunks
    /// before the header's are checked before the header is programmed.
    ///
    /// The part holding the header is programmed last, so that an
    /// interrupted write leaves no header, or a torn one, never a header
    /// over torn bytes that only the checksum could catch (CRC-16 misses
    /// one in 65536; no checksum misses all). With a checksum that part is
    /// the first chunk (256 bytes or less): the same program calls as front
    /// to back, in another order, and one call for entries of one chunk.
    /// Without a checksum it is the first write unit (16 bytes, or the
    /// partition alignment if larger): one more program call per entry. The
    /// bytes on flash are the same either way.
    /// - Throws: `.internal` for an alignment above 256; `.dataLoss` if a
    ///   chunk reads back different; a read or write error.
    #if $Embedded
    @inline(__always)
    #else
    @inline(never)
    #endif
    static func program(
        _ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?, to address: Int,
        in io: FlashIO<Flash>, verifying: Bool
    ) throws(KVSError) {
        let alignment = header.alignmentBytes
        guard alignment <= ChunkBuffer.count else { throw .internal }
        let size = header.entrySize
        let chunkSize = alignDown(ChunkBuffer.count, alignment)
        let headerPart = io.format(magic: header.magic)?.checksum.byteCount == 0
            ? alignUp(EntryHeader.size, io.partition.alignment) : chunkSize
        let split = min(headerPart, size)
        let value = header.isTombstone ? Span() : value
        // The entry's bytes: the header, then key and value (or the
        // source's: `header` gives their sizes either way), then zero
        // padding from `contentEnd`.
        let contentEnd = EntryHeader.size &+ header.contentSize
        let encoded = header.encoded()
        var buffer = ChunkBuffer(repeating: 0)
        var chunk = buffer.mutableSpan
        // The bytes after the header's part (none for a small entry), then that part.
        var part = split..<size
        for _ in 0..<2 {
            var offset = part.lowerBound
            let end = min(part.upperBound, contentEnd)
            while offset < end {
                let window = offset..<min(offset &+ chunkSize, end)
                place(encoded.span, at: 0, in: window, into: &chunk)
                if let source {
                    let from = max(EntryHeader.size, offset)
                    if from < window.upperBound {
                        var target = chunk._mutatingExtracting((from &- offset)..<window.count)
                        try io.read(at: source &+ from, into: &target)
                    }
                } else {
                    place(key, at: EntryHeader.size, in: window, into: &chunk)
                    place(value, at: EntryHeader.size &+ key.count, in: window, into: &chunk)
                }
                let length = alignUp(window.count, alignment)
                var padding = chunk._mutatingExtracting(window.count..<length)
                padding.update(repeating: 0)
                let bytes = chunk.span.extracting(0..<length)
                try io.write(at: address &+ offset, bytes)
                if verifying, try !io.holds(bytes, at: address &+ offset) { throw .dataLoss }
                offset = window.upperBound
            }
            part = 0..<split
        }
    }

    /// Copies into `chunk`, which holds the entry's bytes `window`, those
    /// of `bytes` that fall in it; the entry holds `bytes` from `start`.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    private static func place(_ bytes: Span<UInt8>, at start: Int, in window: Range<Int>,
                              into chunk: inout MutableSpan<UInt8>) {
        let from = max(start, window.lowerBound)
        let to = min(start &+ bytes.count, window.upperBound)
        guard from < to else { return }
        #if $Embedded
        for offset in from..<to { chunk[offset &- window.lowerBound] = bytes[offset &- start] }
        #else
        // In bounds: the window is at most 256 bytes and `from..<to` lies in it and in `bytes`.
        bytes.withUnsafeBytes { source in
            chunk.withUnsafeMutableBytes { target in
                (target.baseAddress.unsafelyUnwrapped + (from &- window.lowerBound))
                    .copyMemory(from: source.baseAddress.unsafelyUnwrapped + (from &- start), byteCount: to &- from)
            }
        }
        #endif
    }
}
