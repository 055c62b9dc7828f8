/// The buffer that entries are written from and read into in chunks, on
/// the stack of the operation (the store keeps no I/O buffer in its RAM;
/// pw_kvs also borrows the stack). Its size is also the largest supported
/// entry alignment. Parts of it are reached with `_mutatingExtracting`,
/// the name this toolchain gives `MutableSpan.extracting` (deprecated),
/// which avoids a closure per use (closures cost code size in Embedded).
typealias ChunkBuffer = InlineArray<256, UInt8>

/// An entry header and the partition address it was read from.
struct LocatedEntry {
    var header: EntryHeader
    var address: Int
}

/// Accumulates the bytes of one part of an entry, `range` (offsets in the
/// entry), and programs them in chunks of `chunkSize` (256 rounded down to
/// the alignment), as pw_kvs does; the last chunk is zero-padded to the
/// alignment. Bytes outside `range` are dropped.
struct AlignedWriter {
    var buffer = ChunkBuffer(repeating: 0)
    let chunkSize: Int
    let alignment: Int
    var address: Int
    var filled = 0
    /// Entry bytes still to drop before the part starts.
    var skip: Int
    /// Bytes of the part still to take.
    var keep: Int

    init(alignment: Int, entryAddress: Int, range: Range<Int>) {
        self.alignment = alignment
        self.chunkSize = alignDown(ChunkBuffer.count, alignment)
        self.address = entryAddress &+ range.lowerBound
        self.skip = range.lowerBound
        self.keep = range.count
    }
}

// Entry I/O. The reads and writes follow the reference implementation
// (spec Appendix A) so that fault-injection scenarios and flash counters
// compare with pw_kvs; where FlashKVS reads differently it reads less.
extension KeyValueStore {
    /// Reads flash through the partition. A failed read is tried once
    /// more (a transient error never reaches the store's logic); a read
    /// that fails twice is counted in `failedReads` (a scan that saw one is
    /// repeated, then refused) and its error thrown. A read error never
    /// counts as corruption: callers try another copy or report it.
    #if $Embedded  // one copy on devices: inlined into its 14 callers it cost about 1 kB
    @inline(never)
    #else
    @inline(__always)
    #endif
    func readFlash(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        do {
            try partition.read(at: address, into: &buffer)
        } catch {
            do {
                try partition.read(at: address, into: &buffer)
            } catch {
                failedReads &+= 1
                lastReadError = error
                throw error
            }
        }
    }

    /// Reads and checks the header at `address` (one 16-byte read).
    /// - Throws: `.notFound` if the magic is erased (free space);
    ///   `.dataLoss` for an unknown magic, a key longer than 63 bytes or an
    ///   entry that runs past its sector; or the read error.
    func readHeader(at address: Int) throws(KVSError) -> EntryHeader {
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        var span = bytes.mutableSpan
        try readFlash(at: address, into: &span)
        let header = try EntryHeader.parse(span.span, formats: formats, erasedByte: partition.erasedByte)
        // Beyond the reference (spec 7.2 B4): an entry never crosses its sector's end.
        guard address % sectorSize &+ header.entrySize <= sectorSize else { throw .dataLoss }
        return header
    }

    /// Reads the key of the entry at `address` into the start of `buffer`
    /// (64 bytes); returns its length.
    /// - Throws: `.dataLoss` for a zero or oversized key length, or the read error.
    func readKey(_ header: EntryHeader, at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) -> Int {
        let length = Int(header.keyLength)
        guard length > 0, length <= EntryHeader.maxKeyLength else { throw .dataLoss }
        var part = buffer._mutatingExtracting(first: length)
        try readFlash(at: address &+ EntryHeader.size, into: &part)
        return length
    }

    /// Verifies the checksum of the entry at `address` over the bytes on
    /// flash, padding included, reading up to 256 bytes at a time into a
    /// buffer on the stack.
    ///
    /// With `headerAlreadyRead`, `header` is the header just read from
    /// `address`, and only the bytes after it are read.
    /// - Returns: the hash of the key read from flash with
    ///   `headerAlreadyRead` (the key starts the first read), 0 otherwise.
    /// - Throws: `.dataLoss` if the stored checksum field differs from
    ///   `header`'s or the checksum does not match; or the read error.
    @discardableResult
    func verifyInFlash(_ header: EntryHeader, at address: Int, headerAlreadyRead: Bool = false) throws(KVSError) -> UInt32 {
        guard let format = format(magic: header.magic) else { throw .dataLoss }
        let checksum = format.checksum
        var state = checksum.initialState
        if headerAlreadyRead {
            guard checksum.byteCount > 0 || header.checksumField == 0 else { throw .dataLoss }
            state = checksum.update(state, header.encoded(zeroChecksum: true).span)
        }
        let size = header.entrySize
        var offset = headerAlreadyRead ? EntryHeader.size : 0
        var keyHash: UInt32 = 0
        var buffer = ChunkBuffer(repeating: 0)
        var whole = buffer.mutableSpan
        var first = true
        while offset < size {
            let length = min(ChunkBuffer.count, size &- offset)
            var span = whole._mutatingExtracting(first: length)
            try readFlash(at: address &+ offset, into: &span)
            if first && headerAlreadyRead {
                keyHash = KeyHash.of(span.span.extracting(0..<min(Int(header.keyLength), length)))
            }
            if first && !headerAlreadyRead {
                guard EntryHeader.loadUInt32(span.span, 4) == header.checksumField else { throw .dataLoss }
                if checksum.byteCount == 0 {
                    guard header.checksumField == 0 else { throw .dataLoss }
                    return 0
                }
                for index in 4..<8 { span[index] = 0 }
            }
            if checksum.byteCount > 0 { state = checksum.update(state, span.span) }
            // With a header already read and no checksum, the content still
            // has to be read once (the caller uses the key from it).
            if checksum.byteCount == 0 && headerAlreadyRead { return keyHash }
            first = false
            offset &+= length
        }
        guard checksum.matches(field: header.checksumField, state: state) else { throw .dataLoss }
        return keyHash
    }

    /// Whether `header`'s checksum matches `key` and `value` held in RAM
    /// (with zero padding). No flash access.
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    func verifyInMemory(_ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>) -> Bool {
        guard let format = format(magic: header.magic) else { return false }
        return format.checksum.matches(field: header.checksumField, state: format.checksumState(header, key: key, value: value))
    }

    /// Reads up to `buffer.count` value bytes from `offset` into `buffer`.
    /// - Returns: the number of bytes read.
    /// - Throws: `.outOfRange` if `offset` is past the value;
    ///   `.resourceExhausted` when the buffer is full before the value ends
    ///   (the buffer holds the first `buffer.count` bytes); or the read error.
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    func readValue(_ entry: LocatedEntry, into buffer: inout MutableSpan<UInt8>, offset: Int) throws(KVSError) -> Int {
        let size = entry.header.valueSize
        guard offset >= 0, offset <= size else { throw .outOfRange }
        let remaining = size &- offset
        let count = min(buffer.count, remaining)
        if count > 0 {
            let address = entry.address &+ EntryHeader.size &+ Int(entry.header.keyLength) &+ offset
            try buffer.withUnsafeMutableBufferPointer { bytes throws(KVSError) in
                var part = bytes.extracting(0..<count).mutableSpan
                try readFlash(at: address, into: &part)
            }
        }
        if count < remaining { throw .resourceExhausted }
        return count
    }

    /// Whether the stored value equals `value` (compared in chunks of up to
    /// 256 bytes). A read error counts as a difference.
    ///
    /// Not inlined into writeEntry: its chunk would stay on the stack while the entry is written.
    func valueMatches(_ entry: LocatedEntry, _ value: Span<UInt8>) -> Bool {
        guard entry.header.valueSize == value.count else { return false }
        let start = entry.address &+ EntryHeader.size &+ Int(entry.header.keyLength)
        var chunk = ChunkBuffer(repeating: 0)
        var whole = chunk.mutableSpan
        var offset = 0
        while offset < value.count {
            let length = min(ChunkBuffer.count, value.count &- offset)
            var span = whole._mutatingExtracting(first: length)
            guard (try? readFlash(at: start &+ offset, into: &span)) != nil else { return false }
            for index in 0..<length where span[index] != value[offset &+ index] { return false }
            offset &+= length
        }
        return true
    }

    /// A header for a new entry in the primary format, checksum included.
    func makeHeader(key: Span<UInt8>, value: Span<UInt8>, deleted: Bool, transactionID: UInt32) -> EntryHeader {
        var header = EntryHeader(
            magic: primaryFormat.magic, alignmentUnits: alignmentUnits, keyLength: UInt8(truncatingIfNeeded: key.count),
            valueSizeField: deleted ? EntryHeader.tombstoneValueSize : UInt16(truncatingIfNeeded: value.count),
            transactionID: transactionID)
        header.checksumField = primaryFormat.checksumField(for: header, key: key, value: value)
        return header
    }

    /// Programs the entry `header`, `key` and `value` (nothing for a
    /// tombstone) or, with a `source`, the key and value of the entry there,
    /// streamed from flash; padded to `header`'s alignment.
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
    ///
    /// Not inlined into placeEntry: its chunk would stay on the stack during the verification read.
    /// - Throws: `.internal` for an alignment above 256; read or write errors.
    func streamEntry(
        _ header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?, to address: Int
    ) throws(KVSError) {
        guard header.alignmentBytes <= ChunkBuffer.count else { throw .internal }
        let size = header.entrySize
        let headerPart = format(magic: header.magic)?.checksum.byteCount == 0
            ? alignUp(EntryHeader.size, partition.alignment) : alignDown(ChunkBuffer.count, header.alignmentBytes)
        if headerPart < size {
            try streamPart(headerPart..<size, of: header, key: key, value: value, copyingFrom: source, to: address)
        }
        try streamPart(0..<min(headerPart, size), of: header, key: key, value: value, copyingFrom: source, to: address)
    }

    /// Programs the bytes `range` of the entry that ``streamEntry`` writes
    /// (reading the source's in chunks of up to 256 bytes).
    private func streamPart(
        _ range: Range<Int>, of header: EntryHeader, key: Span<UInt8>, value: Span<UInt8>, copyingFrom source: Int?,
        to address: Int
    ) throws(KVSError) {
        guard !range.isEmpty else { return }
        var writer = AlignedWriter(alignment: header.alignmentBytes, entryAddress: address, range: range)
        try append(header.encoded().span, to: &writer)
        if let source {
            // The source's key and value bytes that fall in the range.
            var from = source &+ max(EntryHeader.size, range.lowerBound)
            let end = source &+ min(EntryHeader.size &+ header.contentSize, range.upperBound)
            writer.skip = 0
            while from < end {
                let length = min(writer.chunkSize &- writer.filled, end &- from)
                var whole = writer.buffer.mutableSpan
                var span = whole._mutatingExtracting(writer.filled..<(writer.filled &+ length))
                try readFlash(at: from, into: &span)
                writer.filled &+= length
                writer.keep &-= length
                from &+= length
                if writer.filled == writer.chunkSize { try writeChunk(&writer, length: writer.chunkSize) }
            }
        } else {
            try append(key, to: &writer)
            if !header.isTombstone { try append(value, to: &writer) }
        }
        try flush(&writer)
    }

    /// A copy of `entry`'s header moved to `format` with a new transaction
    /// id and the partition's alignment; its checksum is recomputed over the
    /// key and value read from flash (32-byte reads; none without checksum).
    @inline(__always)  // inlined: smaller device code (Docs/EMBEDDED.md, Code size)
    func updatedHeader(_ entry: LocatedEntry, format: EntryFormat, transactionID: UInt32) throws(KVSError) -> EntryHeader {
        var header = entry.header
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
            try readFlash(at: entry.address &+ EntryHeader.size &+ offset, into: &part)
            state = checksum.update(state, part.span)
            offset &+= length
        }
        state = checksum.updateWithZeros(state, count: header.entrySize &- EntryHeader.size &- header.contentSize)
        header.checksumField = checksum.fieldValue(state)
        return header
    }

    // MARK: Aligned writing

    private func append(_ bytes: Span<UInt8>, to writer: inout AlignedWriter) throws(KVSError) {
        var index = min(writer.skip, bytes.count)
        writer.skip &-= index
        let end = index &+ min(bytes.count &- index, writer.keep)
        writer.keep &-= end &- index
        while index < end {
            let length = min(writer.chunkSize &- writer.filled, end &- index)
            for offset in 0..<length { writer.buffer[writer.filled &+ offset] = bytes[index &+ offset] }
            writer.filled &+= length
            index &+= length
            if writer.filled == writer.chunkSize { try writeChunk(&writer, length: writer.chunkSize) }
        }
    }

    private func flush(_ writer: inout AlignedWriter) throws(KVSError) {
        guard writer.filled > 0 else { return }
        let padded = alignUp(writer.filled, writer.alignment)
        for index in writer.filled..<padded { writer.buffer[index] = 0 }
        try writeChunk(&writer, length: padded)
    }

    private func writeChunk(_ writer: inout AlignedWriter, length: Int) throws(KVSError) {
        try partition.write(at: writer.address, writer.buffer.span.extracting(0..<length))
        writer.address &+= length
        writer.filled = 0
    }
}
