// Code size: `read(at:into:)` is kept out of line on devices (one copy for
// its many callers; inlined with the partition's range checks it cost about
// 1 kB). Hosts inline it: it is on every get and put.

/// The store's partition as entries read and write it: reads retried once
/// and their failures counted, the entry formats the store knows.
///
/// One pointer to state in the store's allocation (the store owns and frees
/// it), so that an ``Entry`` carries it in one register.
struct FlashIO<Flash: FlashMemory> {
    struct State {
        var partition: FlashPartition<Flash>
        /// Entry formats to read; the first is used for writing.
        let formats: [EntryFormat]
        /// Flash reads that failed twice since the store was created.
        var failedReads = 0
        /// The error of the last read that failed twice.
        var lastReadError: KVSError = .unavailable
    }

    let state: UnsafeMutablePointer<State>

    var partition: FlashPartition<Flash> {
        get { state.pointee.partition }
        nonmutating _modify { yield &state.pointee.partition }
    }
    var formats: [EntryFormat] { state.pointee.formats }
    var sectorSize: Int { state.pointee.partition.sectorSize }

    /// Whether `count` bytes from partition address `address` stay in its
    /// sector (its offset in the sector by a mask for the usual power-of-two
    /// sector size, no division).
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func fitsInSector(_ count: Int, at address: Int) -> Bool {
        let size = sectorSize
        let mask = size &- 1
        return (size & mask == 0 ? address & mask : address % size) &+ count <= size
    }

    /// Reads flash through the partition. A failed read is tried once
    /// more (a transient error never reaches the store's logic); a read
    /// that fails twice is counted in `failedReads` (a scan that saw one is
    /// repeated, then refused) and its error thrown. A read error never
    /// counts as corruption: callers try another copy or report it.
    /// - Throws: the partition's error (`.outOfRange` or the flash's).
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        do {
            try state.pointee.partition.read(at: address, into: &buffer)
        } catch {
            do {
                try state.pointee.partition.read(at: address, into: &buffer)
            } catch {
                state.pointee.failedReads &+= 1
                state.pointee.lastReadError = error
                throw error
            }
        }
    }

    /// Programs `bytes` at `address` (one program call, no retry).
    /// - Throws: the partition's error.
    #if $Embedded
    @inline(never)
    #endif
    func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        try state.pointee.partition.write(at: address, bytes)
    }

    /// Erases the sector starting at `address` (one erase call).
    /// - Throws: the partition's error.
    #if $Embedded
    @inline(never)
    #endif
    func eraseSector(at address: Int) throws(KVSError) {
        try state.pointee.partition.erase(at: address)
    }

    /// The format with `magic`, if the store knows it. O(formats).
    #if $Embedded
    @inline(never)
    #endif
    func format(magic: UInt32) -> EntryFormat? {
        for format in state.pointee.formats where format.magic == magic { return format }
        return nil
    }

    /// Whether the flash at `address` holds exactly `bytes`: reads of up to
    /// 64 bytes into a buffer on the stack (stops at the first difference).
    /// - Throws: the read error.
    func holds(_ bytes: Span<UInt8>, at address: Int) throws(KVSError) -> Bool {
        var buffer = InlineArray<64, UInt8>(repeating: 0)
        var whole = buffer.mutableSpan
        var offset = 0
        while offset < bytes.count {
            let length = min(64, bytes.count &- offset)
            var span = whole._mutatingExtracting(first: length)
            try read(at: address &+ offset, into: &span)
            guard bytesEqual(span.span, bytes.extracting(offset..<(offset &+ length))) else { return false }
            offset &+= length
        }
        return true
    }

    /// Whether all bytes in `start..<end` are erased (reads of up to 256
    /// bytes into a buffer on the stack; stops at the first written byte).
    /// - Throws: the read error.
    ///
    /// Kept out of its callers: its chunk would stay on the stack during
    /// their next call (entry verification in the scan).
    func isErased(from start: Int, to end: Int) throws(KVSError) -> Bool {
        let erased = state.pointee.partition.erasedByte
        var buffer = ChunkBuffer(repeating: 0)
        var whole = buffer.mutableSpan
        var address = start
        while address < end {
            let length = min(ChunkBuffer.count, end &- address)
            var span = whole._mutatingExtracting(first: length)
            try read(at: address, into: &span)
            for index in 0..<length where span[index] != erased { return false }
            address &+= length
        }
        return true
    }
}

/// The buffer that entries are written from and read into in chunks, on
/// the stack of the operation (the store keeps no I/O buffer in its RAM;
/// pw_kvs also borrows the stack). Its size is also the largest supported
/// entry alignment. Parts of it are reached with `_mutatingExtracting`,
/// the name this toolchain gives `MutableSpan.extracting` (deprecated),
/// which avoids a closure per use (closures cost code size in Embedded).
typealias ChunkBuffer = InlineArray<256, UInt8>

/// Whether `a` and `b` hold the same bytes: eight bytes per step on hosts,
/// one per step on devices (smaller code).
/// - Complexity: O(n); no flash access.
func bytesEqual(_ a: Span<UInt8>, _ b: Span<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    #if $Embedded
    for index in 0..<a.count where a[index] != b[index] { return false }
    return true
    #else
    return a.withUnsafeBytes { a in
        b.withUnsafeBytes { b in
            var index = 0
            while index &+ 8 <= a.count {
                guard a.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    == b.loadUnaligned(fromByteOffset: index, as: UInt64.self) else { return false }
                index &+= 8
            }
            while index < a.count {
                guard a[index] == b[index] else { return false }
                index &+= 1
            }
            return true
        }
    }
    #endif
}
