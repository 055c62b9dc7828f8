// Checksum-free formats only: telling a copy that an interruption left
// torn from a good one. Without a checksum a torn entry still parses; two
// entries with one transaction id are copies of one write, and where they
// differ the torn one has erased bits where the other has programmed ones
// (issue 17, an erase cut with the sector's start intact). The scan and
// garbage collection reach this file only through `tornCopies`, the
// function pointers the initializers set when a format has no checksum
// (`tornCopy(of:copy:_:)` makes their tornCopy call): firmware whose
// formats visibly all have a checksum links none of the checks
// (KeyValueStore.swift, "Inlined initializers").
// Both `tornCopy` functions are kept out of line (`@inline(never)`): one
// copy for their callers (Docs/EMBEDDED.md, "Code size").

extension KeyValueStore {
    /// The checks ``installTornCopyChecks()`` installs. Non-capturing
    /// closures: function pointers with no context, nothing allocated.
    struct TornCopyChecks {
        /// ``tornCopy(_:_:)``.
        var tornCopy: (KeyValueStore<Flash>, Int, Int) -> Int?
        /// ``forgetTornKeys()``.
        var forgetTornKeys: (KeyValueStore<Flash>) -> Void
        /// ``Entry/isErasedFromItsKey()``.
        var isErasedFromItsKey: (Entry<Flash>) -> Bool
    }

    /// Installs the torn-copy checks (the initializers, for a format
    /// without a checksum).
    func installTornCopyChecks() {
        mutable.pointee.tornCopies = TornCopyChecks(
            tornCopy: { store, first, second in store.tornCopy(first, second) },
            forgetTornKeys: { store in store.forgetTornKeys() },
            isErasedFromItsKey: { entry in entry.isErasedFromItsKey() })
    }

    /// Of copy `copy` of `descriptor` and the entry at `other`, the torn
    /// one (``tornCopy(_:_:)``) through the installed checks; nil when none
    /// are installed (every format has a checksum). The one call of the
    /// hook for the scan and garbage collection.
    @inline(never)
    func tornCopy(of descriptor: Int, copy: Int, _ other: Int) -> Int? {
        guard let tornCopy = mutable.pointee.tornCopies?.tornCopy else { return nil }
        return tornCopy(self, keyTable.address(descriptor, copy: copy), other)
    }

    /// Whether a configured format has no checksum.
    var hasChecksumFreeFormat: Bool {
        for format in formats where format.checksum.byteCount == 0 { return true }
        return false
    }

    /// Of two entries with one transaction id and the same header, of a
    /// format without a checksum, the one an interruption left torn: where
    /// the two differ, its bits are erased and the other's programmed, never
    /// the reverse (a cut program or erase leaves bits erased; nothing sets
    /// a bit that was not programmed). Transaction ids are unique per write,
    /// so two entries sharing one are copies of one write; without a
    /// checksum this is what tells a torn copy from a good one.
    /// - Returns: the torn entry's address; nil if the headers differ, the
    ///   format has a checksum, the bytes are equal, neither is torn, or a
    ///   read fails. Reads both entries 16 bytes at a time.
    @inline(never)
    func tornCopy(_ first: Int, _ second: Int) -> Int? {
        let erased = partition.erasedByte
        var firstBytes = InlineArray<16, UInt8>(repeating: 0)
        var secondBytes = InlineArray<16, UInt8>(repeating: 0)
        var firstSpan = firstBytes.mutableSpan
        var secondSpan = secondBytes.mutableSpan
        var onlyInFirst: UInt8 = 0  // bits programmed in the first, erased in the second
        var onlyInSecond: UInt8 = 0
        var offset = 0
        var size = EntryHeader.size
        while offset < size {
            guard (try? io.read(at: first &+ offset, into: &firstSpan)) != nil,
                  (try? io.read(at: second &+ offset, into: &secondSpan)) != nil else { return nil }
            for index in 0..<16 {
                let a = firstSpan[index] ^ erased
                let b = secondSpan[index] ^ erased
                onlyInFirst |= a & ~b
                onlyInSecond |= b & ~a
            }
            if offset == 0 {
                // Copies of one write have the same header.
                let header = EntryHeader(decoding: firstSpan.span)
                guard onlyInFirst | onlyInSecond == 0, io.format(magic: header.magic)?.checksum.byteCount == 0 else {
                    return nil
                }
                size = header.entrySize
            }
            offset &+= 16
        }
        if onlyInFirst == 0 { return onlyInSecond == 0 ? nil : first }
        return onlyInSecond == 0 ? second : nil
    }

    /// Without a checksum, an entry torn in its key reads as another key's
    /// entry. Two keys never share a transaction id; where two do and one
    /// entry is the other torn (``tornCopy(_:_:)``), forgets the torn key
    /// (the last descriptor takes its place, and is checked in turn).
    /// O(keys²) comparisons of transaction ids, flash reads only where two
    /// are equal.
    func forgetTornKeys() {
        var key = 0
        while key < keyTable.count {
            let address = keyTable.address(key, copy: 0)
            var isTorn = false
            for other in 0..<keyTable.count where other != key && keyTable.transactionID(other) == keyTable.transactionID(key) {
                if tornCopy(keyTable.address(other, copy: 0), address) == address { isTorn = true }
            }
            if isTorn { keyTable.remove(key) } else { key &+= 1 }
        }
    }
}
