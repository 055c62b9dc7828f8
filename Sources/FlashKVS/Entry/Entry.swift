// Code size: helpers with one caller in the minimal image are inlined
// (`@inline(__always)`); those whose stack buffer would stay on the stack
// during the caller's next call (`valueMatches`, through `FlashIO.holds`)
// are left out of line. Docs/EMBEDDED.md, "Code size", has the measurements.

/// One entry on flash (pw_kvs `internal::Entry`): where it is, its header,
/// and every operation on its bytes: reading the key and value, verifying
/// the checksum on flash or in RAM, comparing a value, writing a new entry,
/// copying it elsewhere and updating its header to another format.
///
/// The reads and writes follow the reference implementation (spec
/// Appendix A) so that fault-injection scenarios and flash counters
/// compare with pw_kvs; where FlashKVS reads differently it reads less.
/// Reads go through ``FlashIO`` (retried once, failures counted).
struct Entry<Flash: FlashMemory> {
    let io: FlashIO<Flash>
    /// The entry's partition address.
    let address: Int
    let header: EntryHeader

    /// The entry with `header` at `address` (just written, or read). No flash access.
    init(_ header: EntryHeader, at address: Int, in io: FlashIO<Flash>) {
        self.io = io
        self.address = address
        self.header = header
    }

    /// Reads and checks the header at `address` (one 16-byte read).
    /// - Throws: `.notFound` if the magic is erased (free space);
    ///   `.dataLoss` for an unknown magic, a key longer than 63 bytes or an
    ///   entry that runs past its sector; or the read error.
    #if $Embedded
    @inline(never)
    #endif
    init(readingAt address: Int, in io: FlashIO<Flash>) throws(KVSError) {
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        var span = bytes.mutableSpan
        try io.read(at: address, into: &span)
        try self.init(parsing: span.span, at: address, in: io)
    }

    /// Checks the header bytes `bytes` (its first 16), read at `address`.
    /// No flash access.
    /// - Throws: as ``init(readingAt:in:)``, without the read error.
    init(parsing bytes: Span<UInt8>, at address: Int, in io: FlashIO<Flash>) throws(KVSError) {
        let header = try EntryHeader.parse(bytes, formats: io.formats, erasedByte: io.partition.erasedByte)
        // Beyond the reference (spec 7.2 B4): an entry never crosses its sector's end.
        guard io.fitsInSector(header.entrySize, at: address) else { throw .dataLoss }
        self.init(header, at: address, in: io)
    }

    /// Reads and verifies the entry at `address`, as the scan does: one
    /// header read, then the rest of the entry in reads of up to 256 bytes.
    /// - Returns: the entry and the hash of its key as read from flash.
    /// - Throws: `.notFound` at erased space (or where a header would cross
    ///   the sector end); `.dataLoss` for a corrupt entry; the read error.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    static func load(at address: Int, in io: FlashIO<Flash>) throws(KVSError) -> (entry: Entry, keyHash: UInt32) {
        guard io.fitsInSector(EntryHeader.size, at: address) else { throw .notFound }
        let entry = try Entry(readingAt: address, in: io)
        guard entry.header.keyLength > 0 else { throw .dataLoss }
        return (entry, try entry.verifyAfterHeaderRead())
    }

    /// Address of the first value byte.
    var valueAddress: Int { address &+ EntryHeader.size &+ Int(header.keyLength) }

    /// Reads the key into the start of `buffer` (64 bytes); returns its length.
    /// - Throws: `.dataLoss` for a zero key length, or the read error.
    func readKey(into buffer: inout MutableSpan<UInt8>) throws(KVSError) -> Int {
        let length = Int(header.keyLength)
        guard length > 0, length <= EntryHeader.maxKeyLength else { throw .dataLoss }
        var part = buffer._mutatingExtracting(first: length)
        try io.read(at: address &+ EntryHeader.size, into: &part)
        return length
    }

    /// Verifies the bytes after the header just read against it (key,
    /// value and padding, in reads of up to 256 bytes): the checksum over
    /// the whole entry as it is on flash, header and padding included
    /// (pw_kvs `VerifyChecksumInFlash`, which reads the header again). With
    /// no checksum only the first chunk after the header is read.
    /// - Returns: the hash of the key read from flash.
    /// - Throws: `.dataLoss` on a mismatch or an unknown format; the read error.
    func verifyAfterHeaderRead() throws(KVSError) -> UInt32 {
        guard let format = io.format(magic: header.magic) else { throw .dataLoss }
        let checksum = format.checksum
        guard checksum.byteCount > 0 || header.checksumField == 0 else { throw .dataLoss }
        var state = checksum.update(checksum.initialState, header.encoded(zeroChecksum: true).span)
        let size = header.entrySize
        var offset = EntryHeader.size
        var keyHash: UInt32 = 0
        var buffer = ChunkBuffer(repeating: 0)
        var whole = buffer.mutableSpan
        while offset < size {
            let length = min(ChunkBuffer.count, size &- offset)
            var span = whole._mutatingExtracting(first: length)
            try io.read(at: address &+ offset, into: &span)
            if offset == EntryHeader.size {
                keyHash = KeyHash.of(span.span.extracting(0..<min(Int(header.keyLength), length)))
            }
            // With no checksum, the content still has to be read once (the
            // caller uses the key from it).
            guard checksum.byteCount > 0 else { return keyHash }
            state = checksum.update(state, span.span)
            offset &+= length
        }
        guard checksum.matches(field: header.checksumField, state: state) else { throw .dataLoss }
        return keyHash
    }

    /// Whether the checksum matches `key` and `value` held in RAM (with zero
    /// padding). No flash access.
    @inline(__always)
    func checksumMatches(key: Span<UInt8>, value: Span<UInt8>) -> Bool {
        guard let format = io.format(magic: header.magic) else { return false }
        return format.checksum.matches(field: header.checksumField, state: format.checksumState(header, key: key, value: value))
    }

    /// Reads up to `buffer.count` value bytes from `offset` into `buffer`
    /// (one read; pw_kvs `ReadValue`). Not verified.
    /// - Returns: the number of bytes read.
    /// - Throws: `.outOfRange` if `offset` is past the value;
    ///   `.resourceExhausted` when the buffer is full before the value ends
    ///   (the buffer holds the first `buffer.count` bytes); or the read error.
    @inline(__always)
    func readValue(into buffer: inout MutableSpan<UInt8>, offset: Int) throws(KVSError) -> Int {
        let size = header.valueSize
        guard offset >= 0, offset <= size else { throw .outOfRange }
        let remaining = size &- offset
        let count = min(buffer.count, remaining)
        if count > 0 {
            var part = buffer._mutatingExtracting(first: count)
            try io.read(at: valueAddress &+ offset, into: &part)
        }
        if count < remaining { throw .resourceExhausted }
        return count
    }

    /// Whether the stored value equals `value` (pw_kvs `ValueMatches`),
    /// compared in reads of up to 64 bytes (``FlashIO/holds(_:at:)``;
    /// pw_kvs reads 32). A read error counts as a difference.
    func valueMatches(_ value: Span<UInt8>) -> Bool {
        header.valueSize == value.count && (try? io.holds(value, at: valueAddress)) == true
    }

    /// Whether two more reads of the whole entry return the same bytes
    /// (unstable bits of a torn program flicker): each chunk of up to 256
    /// bytes is read, then read again and compared (``FlashIO/holds(_:at:)``).
    /// A read error counts as unstable.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func isStable() -> Bool {
        let count = header.entrySize
        var buffer = ChunkBuffer(repeating: 0)
        var whole = buffer.mutableSpan
        var offset = 0
        while offset < count {
            let length = min(ChunkBuffer.count, count &- offset)
            var span = whole._mutatingExtracting(first: length)
            guard (try? io.read(at: address &+ offset, into: &span)) != nil,
                  (try? io.holds(span.span, at: address &+ offset)) == true else { return false }
            offset &+= length
        }
        return true
    }

    /// Whether the erased tail of an interrupted erase reaches into this
    /// entry's key, in a format without a checksum: its last key byte and
    /// every byte after it read erased. Without a checksum such an entry
    /// still parses, as a key nobody wrote; a checksum-free store never
    /// writes one (``KeyValueStore/checkKeyToWrite(_:)``). False for
    /// formats with a checksum and on a read error. Reads the value and
    /// padding, up to 256 bytes at a time.
    func isErasedFromItsKey() -> Bool {
        guard io.format(magic: header.magic)?.checksum.byteCount == 0 else { return false }
        return (try? io.isErased(from: valueAddress &- 1, to: address &+ header.entrySize)) ?? false
    }
}
