// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`).

/// The store's index of keys: one descriptor per key (deleted keys included),
/// in pw_kvs key-table order, with up to `redundancy` flash addresses each.
///
/// It lives in storage the store allocates (and frees). RAM per key: 4 (hash) + 4
/// (transaction id) + 1 (key length and deleted flag) + 2 x redundancy
/// (addresses, in 16-byte units, when the partition is at most 1 MiB of
/// sectors that are multiples of 16 bytes; else 4 x redundancy) bytes.
/// Tables for more than ``linearSearchLimit`` keys add a hash index of
/// 16-bit slots (2 to 4 slots per key, 4 to 8 bytes), which makes lookup
/// O(1) on average; smaller tables are searched by a scan of the hashes,
/// as fast as a probe at that size. Order-changing removal (heavy
/// maintenance) rebuilds the index in O(n).
struct KeyTable {
    /// Largest capacity searched without an index.
    static let linearSearchLimit = 64
    private static let deletedFlag: UInt8 = 0x80
    private static let noNarrowAddress = UInt16.max
    private static let noWideAddress = UInt32.max

    /// The table's fields, at the start of its storage. The table itself
    /// is one pointer: a 48-byte struct was copied to the stack for every
    /// call the store made on it (0.9 kB of device code).
    private struct Fields {
        var capacity: Int
        var redundancy: Int
        var count: Int
        var deletedCount: Int
        var hashes: UnsafeMutablePointer<UInt32>
        var transactionIDs: UnsafeMutablePointer<UInt32>
        /// Addresses / 16, `noNarrowAddress` for none (nil: wide addresses).
        var narrowAddresses: UnsafeMutablePointer<UInt16>?
        /// Byte addresses, `noWideAddress` for none (nil: narrow addresses).
        var wideAddresses: UnsafeMutablePointer<UInt32>?
        /// The hash index's operations (KeyTable+Index.swift), nil for
        /// linear search: firmware whose tables visibly all search linearly
        /// links no index code.
        var indexed: IndexOperations?
        var indexMask: Int
        var keyInfo: UnsafeMutablePointer<UInt8>
    }
    private let fields: UnsafeMutablePointer<Fields>

    var capacity: Int { fields.pointee.capacity }
    var redundancy: Int { fields.pointee.redundancy }
    private(set) var count: Int {
        get { fields.pointee.count }
        nonmutating set { fields.pointee.count = newValue }
    }
    private(set) var deletedCount: Int {
        get { fields.pointee.deletedCount }
        nonmutating set { fields.pointee.deletedCount = newValue }
    }
    var hashes: UnsafeMutablePointer<UInt32> { fields.pointee.hashes }
    private var transactionIDs: UnsafeMutablePointer<UInt32> { fields.pointee.transactionIDs }
    var narrowAddresses: UnsafeMutablePointer<UInt16>? { fields.pointee.narrowAddresses }
    var wideAddresses: UnsafeMutablePointer<UInt32>? { fields.pointee.wideAddresses }
    var indexed: IndexOperations? { fields.pointee.indexed }
    var indexMask: Int { fields.pointee.indexMask }
    private var keyInfo: UnsafeMutablePointer<UInt8> { fields.pointee.keyInfo }
    /// The hash index's buckets (descriptor + 1, 0 = empty), right after
    /// the fields; there only with `indexed`.
    var index: UnsafeMutablePointer<UInt16> { UnsafeMutableRawPointer(fields + 1).assumingMemoryBound(to: UInt16.self) }

    /// Bytes the table occupies at the start of the storage it is created
    /// in: its fields, the per-key arrays and the index.
    @inline(__always)
    static func byteCount(capacity: Int, redundancy: Int, narrowAddresses: Bool) -> Int {
        MemoryLayout<Fields>.stride &+ 9 &* capacity &+ (narrowAddresses ? 2 : 4) &* capacity &* redundancy
            &+ 2 &* indexBuckets(capacity: capacity)
    }

    /// Creates an empty table in the first ``byteCount(capacity:redundancy:narrowAddresses:)``
    /// bytes of `storage`, which the store owns (and frees).
    /// - Parameter narrowAddresses: whether every address the table will
    ///   hold is a multiple of 16 below 1 MiB (stored in 2 bytes).
    /// - Precondition: `storage` is aligned for pointers and zeroed; `1 <= capacity <= 32767`,
    ///   `1 <= redundancy <= 255`.
    @inline(__always)
    init(at storage: UnsafeMutableRawPointer, capacity: Int, redundancy: Int, narrowAddresses: Bool) {
        let buckets = Self.indexBuckets(capacity: capacity)
        let addressBytes = (narrowAddresses ? 2 : 4) &* capacity &* redundancy
        // Layout: fields, index (a multiple of 8 bytes), hashes, transaction
        // ids, addresses, key info; all zero (as the storage is given)
        // except the addresses, whose "none" value is all ones.
        (storage + MemoryLayout<Fields>.stride).bindMemory(to: UInt16.self, capacity: buckets)
        let arrays = storage + (MemoryLayout<Fields>.stride &+ 2 &* buckets)
        let addresses = arrays + 8 &* capacity
        addresses.initializeMemory(as: UInt8.self, repeating: 0xFF, count: addressBytes)
        let keyInfo = addresses + addressBytes
        fields = storage.bindMemory(to: Fields.self, capacity: 1)
        fields.initialize(to: Fields(
            capacity: capacity, redundancy: redundancy, count: 0, deletedCount: 0,
            hashes: arrays.bindMemory(to: UInt32.self, capacity: capacity),
            transactionIDs: (arrays + 4 &* capacity).bindMemory(to: UInt32.self, capacity: capacity),
            narrowAddresses: narrowAddresses ? addresses.bindMemory(to: UInt16.self, capacity: capacity &* redundancy) : nil,
            wideAddresses: narrowAddresses ? nil : addresses.bindMemory(to: UInt32.self, capacity: capacity &* redundancy),
            indexed: buckets > 0 ? { table, request in table.answer(request) } : nil, indexMask: buckets &- 1,
            keyInfo: keyInfo.bindMemory(to: UInt8.self, capacity: capacity)))
    }

    var isFull: Bool { count == capacity }
    var presentCount: Int { count &- deletedCount }

    /// Traps unless `descriptor` is within the capacity.
    @inline(__always)
    func check(_ descriptor: Int) {
        precondition(UInt(bitPattern: descriptor) < UInt(bitPattern: capacity))
    }

    func hash(_ descriptor: Int) -> UInt32 {
        check(descriptor)
        return hashes[descriptor]
    }
    #if $Embedded
    @inline(never)
    #endif
    func transactionID(_ descriptor: Int) -> UInt32 {
        check(descriptor)
        return transactionIDs[descriptor]
    }
    func keyLength(_ descriptor: Int) -> Int {
        check(descriptor)
        return Int(keyInfo[descriptor] & 0x3F)
    }
    #if $Embedded
    @inline(never)
    #endif
    func isDeleted(_ descriptor: Int) -> Bool {
        check(descriptor)
        return keyInfo[descriptor] & Self.deletedFlag != 0
    }

    // MARK: Address slots (a descriptor's copies: KeyTable+Addresses.swift)

    /// The address in `slot` (descriptor x redundancy + copy), nil if empty.
    #if $Embedded
    @inline(never)
    #endif
    func address(inSlot slot: Int) -> Int? {
        if let narrowAddresses {
            let units = narrowAddresses[slot]
            return units == Self.noNarrowAddress ? nil : Int(units) << 4
        }
        let address = wideAddresses.unsafelyUnwrapped[slot]
        return address == Self.noWideAddress ? nil : Int(address)
    }

    /// Stores `address` (nil: none) in `slot`.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func setAddress(_ address: Int?, inSlot slot: Int) {
        if let narrowAddresses {
            guard let address else { return narrowAddresses[slot] = Self.noNarrowAddress }
            precondition(address & 15 == 0 && address >> 4 < Int(Self.noNarrowAddress))
            narrowAddresses[slot] = UInt16(truncatingIfNeeded: address >> 4)
        } else {
            wideAddresses.unsafelyUnwrapped[slot] = address.map { UInt32(truncatingIfNeeded: $0) } ?? Self.noWideAddress
        }
    }

    // MARK: Descriptors

    /// Adds a descriptor for `hash` with no version yet (the caller
    /// ``reset(_:transactionID:keyLength:deleted:address:)``s it next); returns its position.
    /// - Precondition: not full, and no descriptor has `hash`.
    #if $Embedded
    @inline(never)
    #endif
    func append(hash: UInt32) -> Int {
        precondition(count < capacity)
        let descriptor = count
        count &+= 1
        hashes[descriptor] = hash
        keyInfo[descriptor] = 0
        updateIndex(.insert(descriptor))
        return descriptor
    }

    /// Makes `address` the only copy of a new version of `descriptor`.
    #if $Embedded
    @inline(never)
    #endif
    func reset(_ descriptor: Int, transactionID: UInt32, keyLength: Int, deleted: Bool, address: Int) {
        let wasDeleted = isDeleted(descriptor)
        transactionIDs[descriptor] = transactionID
        keyInfo[descriptor] = UInt8(truncatingIfNeeded: keyLength & 0x3F) | (deleted ? Self.deletedFlag : 0)
        deletedCount = deletedCount &+ (deleted ? 1 : 0) &- (wasDeleted ? 1 : 0)
        let base = descriptor &* redundancy
        setAddress(address, inSlot: base)
        for copy in 1..<redundancy { setAddress(nil, inSlot: base &+ copy) }
    }

    /// Removes descriptor `descriptor`; the last descriptor moves into its place
    /// (iteration order changes, as in pw_kvs). Rebuilds the index: O(n).
    #if $Embedded
    @inline(__always)
    #endif
    func remove(_ descriptor: Int) {
        if isDeleted(descriptor) { deletedCount &-= 1 }
        let last = count &- 1
        // The last descriptor's fields and addresses into `descriptor`'s
        // (itself when it is the last), then its address slots emptied.
        hashes[descriptor] = hashes[last]
        transactionIDs[descriptor] = transactionIDs[last]
        keyInfo[descriptor] = keyInfo[last]
        for copy in 0..<redundancy {
            let from = last &* redundancy &+ copy
            setAddress(address(inSlot: from), inSlot: descriptor &* redundancy &+ copy)
            setAddress(nil, inSlot: from)
        }
        count = last
        updateIndex(.rebuild)
    }

    /// Forgets every key.
    @inline(__always)
    func removeAll() {
        for slot in 0..<count &* redundancy { setAddress(nil, inSlot: slot) }
        count = 0
        deletedCount = 0
        updateIndex(.rebuild)
    }
}
