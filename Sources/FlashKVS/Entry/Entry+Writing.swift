// Code size: new and copied entries share one out-of-line `program`
// (two copies of it cost 0.6 kB); `updated(to:transactionID:alignmentUnits:)`
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
    /// the entry there, streamed from flash (reads of up to 256 bytes),
    /// under `header` (the source's, or an
    /// ``updated(to:transactionID:alignmentUnits:)`` one; pw_kvs
    /// `Entry::Copy`).
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
    @inline(never)
    static func program(
        _ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?, to address: Int,
        in io: FlashIO<Flash>, verifying: Bool
    ) throws(KVSError) {
        guard header.alignmentBytes <= ChunkBuffer.count else { throw .internal }
        let size = header.entrySize
        let headerPart = io.format(magic: header.magic)?.checksum.byteCount == 0
            ? alignUp(EntryHeader.size, io.partition.alignment) : alignDown(ChunkBuffer.count, header.alignmentBytes)
        let split = min(headerPart, size)
        // The bytes after the header's part (none for a small entry), then that part.
        for part in 0..<2 {
            try programPart(part == 0 ? split..<size : 0..<split, of: header, key: key, value: value, copyingFrom: source, to: address, in: io,
                            verifying: verifying)
        }
    }

    /// Programs the bytes `range` of the entry that ``program(_:key:value:copyingFrom:to:in:)``
    /// writes (reading the source's in chunks of up to 256 bytes).
    #if $Embedded
    @inline(never)
    #endif
    private static func programPart(
        _ range: Range<Int>, of header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?,
        to address: Int, in io: FlashIO<Flash>, verifying: Bool
    ) throws(KVSError) {
        guard !range.isEmpty else { return }
        var writer = ChunkWriter(io: io, alignment: header.alignmentBytes, entryAddress: address, range: range,
                                 verifying: verifying)
        try writer.append(header.encoded().span)
        if let source {
            // The source's key and value, read straight into the chunks.
            try writer.append(Span(), count: header.contentSize, readingFrom: source &+ EntryHeader.size)
        } else {
            try writer.append(key)
            if !header.isTombstone { try writer.append(value) }
        }
        try writer.flush()
    }

    /// Accumulates the bytes of one part of an entry, `range` (offsets in
    /// the entry), and programs them in chunks of `chunkSize` (256 rounded
    /// down to the alignment), as pw_kvs does; the last chunk is
    /// zero-padded to the alignment. Bytes outside `range` are dropped.
    private struct ChunkWriter {
        let io: FlashIO<Flash>
        var buffer = ChunkBuffer(repeating: 0)
        let chunkSize: Int
        let alignment: Int
        var address: Int
        var filled = 0
        /// Entry bytes still to drop before the part starts.
        var skip: Int
        /// Bytes of the part still to take.
        var keep: Int
        /// Whether each chunk is read back and compared after its program.
        let verifying: Bool

        @inline(__always)
        init(io: FlashIO<Flash>, alignment: Int, entryAddress: Int, range: Range<Int>, verifying: Bool) {
            self.io = io
            self.verifying = verifying
            self.alignment = alignment
            self.chunkSize = alignDown(ChunkBuffer.count, alignment)
            self.address = entryAddress &+ range.lowerBound
            self.skip = range.lowerBound
            self.keep = range.count
        }

        @inline(__always)
        mutating func append(_ bytes: Span<UInt8>) throws(KVSError) {
            try append(bytes, count: bytes.count, readingFrom: nil)
        }

        /// Appends `count` bytes: those of `bytes` or, with a `source`
        /// address, the flash's from there.
        #if $Embedded
        @inline(never)
        #endif
        mutating func append(_ bytes: Span<UInt8>, count: Int, readingFrom source: Int?) throws(KVSError) {
            var index = min(skip, count)
            skip &-= index
            let end = index &+ min(count &- index, keep)
            keep &-= end &- index
            while index < end {
                let length = min(chunkSize &- filled, end &- index)
                if let source {
                    var whole = buffer.mutableSpan
                    var span = whole._mutatingExtracting(filled..<(filled &+ length))
                    try io.read(at: source &+ index, into: &span)
                } else {
                    #if $Embedded
                    for offset in 0..<length { buffer[filled &+ offset] = bytes[index &+ offset] }
                    #else
                    // In bounds: filled + length <= chunkSize <= 256 and index + length <= end <= bytes.count.
                    let (from, to) = (index, filled)
                    bytes.withUnsafeBytes { source in
                        withUnsafeMutableBytes(of: &buffer) { target in
                            (target.baseAddress.unsafelyUnwrapped + to)
                                .copyMemory(from: source.baseAddress.unsafelyUnwrapped + from, byteCount: length)
                        }
                    }
                    #endif
                }
                filled &+= length
                index &+= length
                if filled == chunkSize { try writeChunk(length: chunkSize) }
            }
        }

        mutating func flush() throws(KVSError) {
            guard filled > 0 else { return }
            let padded = alignUp(filled, alignment)
            for index in filled..<padded { buffer[index] = 0 }
            try writeChunk(length: padded)
        }

        mutating func writeChunk(length: Int) throws(KVSError) {
            let chunk = buffer.span.extracting(0..<length)
            try io.write(at: address, chunk)
            if verifying, try !io.holds(chunk, at: address) { throw .dataLoss }
            address &+= length
            filled = 0
        }
    }
}
