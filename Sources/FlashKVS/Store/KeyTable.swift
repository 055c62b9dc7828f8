/// The store's index of keys: one descriptor per key (deleted keys included),
/// in pw_kvs key-table order, with up to `redundancy` flash addresses each.
///
/// RAM per key: 4 (hash) + 4 (transaction id) + 1 (key length and deleted
/// flag) + 4 x redundancy (addresses) + 2 x (index slots per key, 2 to 4)
/// bytes. Lookup by hash is O(1) on average through an open-addressing index
/// of 16-bit slots; order-changing removal (heavy maintenance) rebuilds the
/// index in O(n).
struct KeyTable: ~Copyable {
    static let noAddress = UInt32.max
    private static let deletedFlag: UInt8 = 0x80

    let capacity: Int
    let redundancy: Int
    private(set) var count = 0
    private(set) var deletedCount = 0

    private let hashes: FixedArray<UInt32>
    private let transactionIDs: FixedArray<UInt32>
    private let keyInfo: FixedArray<UInt8>
    private let addressSlots: FixedArray<UInt32>
    /// Descriptor index + 1 per slot, 0 = empty; length is a power of two
    /// at least twice the capacity.
    private let index: FixedArray<UInt16>
    private let indexMask: Int

    /// - Precondition: `1 <= capacity <= 32767`, `redundancy >= 1`.
    init(capacity: Int, redundancy: Int) {
        self.capacity = capacity
        self.redundancy = redundancy
        hashes = FixedArray(repeating: 0, count: capacity)
        transactionIDs = FixedArray(repeating: 0, count: capacity)
        keyInfo = FixedArray(repeating: 0, count: capacity)
        addressSlots = FixedArray(repeating: Self.noAddress, count: capacity * redundancy)
        var slots = 4
        while slots < capacity * 2 { slots *= 2 }
        index = FixedArray(repeating: 0, count: slots)
        indexMask = slots - 1
    }

    var isFull: Bool { count == capacity }
    var presentCount: Int { count - deletedCount }

    func hash(_ key: Int) -> UInt32 { hashes[key] }
    func transactionID(_ key: Int) -> UInt32 { transactionIDs[key] }
    func keyLength(_ key: Int) -> Int { Int(keyInfo[key] & 0x3F) }
    func isDeleted(_ key: Int) -> Bool { keyInfo[key] & Self.deletedFlag != 0 }

    /// Number of flash copies recorded for `key`.
    func addressCount(_ key: Int) -> Int {
        let base = key * redundancy
        var count = 0
        while count < redundancy, addressSlots[base + count] != Self.noAddress { count += 1 }
        return count
    }

    func address(_ key: Int, copy: Int) -> Int { Int(addressSlots[key * redundancy + copy]) }

    /// The descriptor with `hash`, if any. O(1) on average.
    func find(hash: UInt32) -> Int? {
        var slot = Self.slot(for: hash, mask: indexMask)
        while true {
            let entry = Int(index[slot])
            if entry == 0 { return nil }
            if hashes[entry - 1] == hash { return entry - 1 }
            slot = (slot + 1) & indexMask
        }
    }

    /// The first address slot at or after `slot` (slot = descriptor x
    /// redundancy + copy) whose address lies in `range`, in descriptor
    /// order: a tight scan of the address array.
    func nextSlot(withAddressIn range: Range<Int>, from slot: Int) -> Int? {
        let slots = addressSlots.buffer
        let low = UInt32(truncatingIfNeeded: range.lowerBound)
        let width = UInt32(truncatingIfNeeded: range.count)
        var index = slot
        let end = count * redundancy
        while index < end {
            if slots[index] &- low < width { return index }
            index += 1
        }
        return nil
    }

    /// Adds a descriptor with a single address; returns its position.
    /// - Precondition: not full, and no descriptor has `hash`.
    @discardableResult
    mutating func append(hash: UInt32, transactionID: UInt32, keyLength: Int, deleted: Bool, address: Int) -> Int {
        precondition(count < capacity)
        let key = count
        count += 1
        hashes[key] = hash
        insertIntoIndex(key)
        reset(key, transactionID: transactionID, keyLength: keyLength, deleted: deleted, address: address, wasDeleted: false)
        return key
    }

    /// Makes `address` the only copy of a new version of `key`.
    mutating func reset(_ key: Int, transactionID: UInt32, keyLength: Int, deleted: Bool, address: Int) {
        reset(key, transactionID: transactionID, keyLength: keyLength, deleted: deleted, address: address,
              wasDeleted: isDeleted(key))
    }

    private mutating func reset(
        _ key: Int, transactionID: UInt32, keyLength: Int, deleted: Bool, address: Int, wasDeleted: Bool
    ) {
        transactionIDs[key] = transactionID
        keyInfo[key] = UInt8(truncatingIfNeeded: keyLength & 0x3F) | (deleted ? Self.deletedFlag : 0)
        deletedCount += (deleted ? 1 : 0) - (wasDeleted ? 1 : 0)
        let base = key * redundancy
        addressSlots[base] = UInt32(truncatingIfNeeded: address)
        for copy in 1..<redundancy { addressSlots[base + copy] = Self.noAddress }
    }

    /// Records another copy of `key`'s current version.
    /// - Precondition: fewer than `redundancy` copies recorded.
    mutating func addAddress(_ key: Int, _ address: Int) {
        let copy = addressCount(key)
        precondition(copy < redundancy)
        addressSlots[key * redundancy + copy] = UInt32(truncatingIfNeeded: address)
    }

    /// Replaces copy `copy` of `key` with `address`.
    mutating func replaceAddress(_ key: Int, copy: Int, with address: Int) {
        addressSlots[key * redundancy + copy] = UInt32(truncatingIfNeeded: address)
    }

    /// Forgets copy `copy` of `key`; the last copy takes its slot.
    mutating func removeAddress(_ key: Int, copy: Int) {
        let base = key * redundancy
        let last = addressCount(key) - 1
        addressSlots[base + copy] = addressSlots[base + last]
        addressSlots[base + last] = Self.noAddress
    }

    /// Removes descriptor `key`; the last descriptor moves into its place
    /// (iteration order changes, as in pw_kvs). Rebuilds the index: O(n).
    mutating func remove(_ key: Int) {
        if isDeleted(key) { deletedCount -= 1 }
        let last = count - 1
        if key != last {
            hashes[key] = hashes[last]
            transactionIDs[key] = transactionIDs[last]
            keyInfo[key] = keyInfo[last]
            for copy in 0..<redundancy {
                addressSlots[key * redundancy + copy] = addressSlots[last * redundancy + copy]
            }
        }
        for copy in 0..<redundancy { addressSlots[last * redundancy + copy] = Self.noAddress }
        count = last
        index.fill(with: 0)
        for entry in 0..<count { insertIntoIndex(entry) }
    }

    /// Forgets every key.
    mutating func removeAll() {
        count = 0
        deletedCount = 0
        index.fill(with: 0)
        addressSlots.fill(with: Self.noAddress)
    }

    private func insertIntoIndex(_ key: Int) {
        var slot = Self.slot(for: hashes[key], mask: indexMask)
        while index[slot] != 0 { slot = (slot + 1) & indexMask }
        index[slot] = UInt16(truncatingIfNeeded: key + 1)
    }

    /// Fibonacci hashing spreads the key hash over the index.
    @inline(__always)
    private static func slot(for hash: UInt32, mask: Int) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B1) >> 16) & mask
    }
}
