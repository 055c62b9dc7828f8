// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

// The key table's hash index (tables over `linearSearchLimit` keys):
// open addressing with linear probing over 16-bit buckets holding
// descriptor + 1. The table reaches it only through `indexed`, a function
// pointer its initializer sets for tables with an index. That initializer
// is inlined into the store's, which are inlined into the caller: firmware
// whose capacity is a constant up to the limit links none of this code
// (KeyValueStore.swift, "Inlined initializers").

extension KeyTable {
    /// What the table asks of its index.
    enum IndexRequest {
        /// The descriptor with this hash, if any.
        case find(UInt32)
        /// Index a descriptor just appended.
        case insert(Int)
        /// Index every descriptor again (removals move descriptors).
        case rebuild
    }

    /// The index's answer to a request (a descriptor for `.find`, else
    /// nil). A thin function pointer: no context, nothing retained.
    typealias IndexOperations = @convention(thin) (KeyTable, IndexRequest) -> Int?

    /// Hash-index buckets for `capacity` keys: 0 up to ``linearSearchLimit``, else
    /// a power of two at least twice the capacity. Inlined into the
    /// initializers, where a constant capacity folds it.
    @inline(__always)
    static func indexBuckets(capacity: Int) -> Int {
        guard capacity > linearSearchLimit else { return 0 }
        var buckets = 4
        while buckets < capacity &* 2 { buckets &*= 2 }
        return buckets
    }

    /// The descriptor with `hash`, if any. O(1) on average with an index,
    /// else a scan of at most ``linearSearchLimit`` hashes.
    #if $Embedded
    @inline(never)
    #endif
    func find(hash: UInt32) -> Int? {
        #if $Embedded
        if let indexed { return indexed(self, .find(hash)) }
        #else
        if indexed != nil { return answer(.find(hash)) }  // see updateIndex(_:)
        #endif
        for descriptor in 0..<count where hashes[descriptor] == hash { return descriptor }
        return nil
    }

    /// Passes `request` to the index, if the table has one: through
    /// `indexed` on devices. Hosts call ``answer(_:)`` directly, inlined:
    /// through the pointer, lookups and inserts took 1 to 5 % more
    /// instructions per operation (`Scripts/bench-instructions.sh`).
    @inline(__always)
    func updateIndex(_ request: IndexRequest) {
        #if $Embedded
        _ = indexed?(self, request)
        #else
        if indexed != nil { _ = answer(request) }
        #endif
    }

    /// The index's operations, reached through `indexed` (on hosts, directly).
    #if !$Embedded
    @inline(__always)
    #endif
    func answer(_ request: IndexRequest) -> Int? {
        let index = index
        switch request {
        case .find(let hash):
            var bucket = Self.bucket(for: hash, mask: indexMask)
            while true {
                let entry = Int(index[bucket])
                if entry == 0 { return nil }
                if hashes[entry &- 1] == hash { return entry &- 1 }
                bucket = (bucket &+ 1) & indexMask
            }
        case .insert(let descriptor):
            insertIntoIndex(descriptor)
        case .rebuild:
            index.update(repeating: 0, count: indexMask &+ 1)
            for entry in 0..<count { insertIntoIndex(entry) }
        }
        return nil
    }

    private func insertIntoIndex(_ descriptor: Int) {
        let index = index
        var bucket = Self.bucket(for: hashes[descriptor], mask: indexMask)
        while index[bucket] != 0 { bucket = (bucket &+ 1) & indexMask }
        index[bucket] = UInt16(truncatingIfNeeded: descriptor &+ 1)
    }

    /// Fibonacci hashing spreads the key hash over the index.
    @inline(__always)
    private static func bucket(for hash: UInt32, mask: Int) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B1) >> 16) & mask
    }
}
