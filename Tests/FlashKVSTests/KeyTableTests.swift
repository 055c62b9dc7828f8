import FlashKVS
import Testing

/// The key table: one slot per key (deleted keys included) up to
/// `capacity`, found by the pw_kvs 32-bit key hash. Tables of more than 64
/// keys add a hash index, so these tests run on both sides of that size:
/// capacity limits, lookups of many keys, hash collisions, and slots freed
/// by heavy maintenance and taken again.
@Suite("Key table and its index")
struct KeyTableTests {
    /// 10 x 4 KiB, alignment 16: room for 1000 entries of 32 bytes.
    static func geometry(capacity: Int, options: StoreOptionsChoice = .defaults) -> StoreGeometry {
        StoreGeometry(sectorSize: 4096, sectorCount: 10, flashAlignment: 16, capacity: capacity, options: options)
    }

    /// A key (4 bytes below 1000) and an 11-byte value (version 0) unique to
    /// `index`: a 31-byte entry, padded to 32.
    static func key(_ index: Int) -> String {
        let digits = String(index)
        return "k" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
    static func value(_ index: Int, version: Int = 0) -> [UInt8] {
        Array("v\(version)-".utf8) + storeBytes(of: UInt64(index * 7919 + version))
    }

    /// Two keys of equal length with the same key hash (found by a search
    /// over random 8-character keys), and two of different lengths (a
    /// trailing zero byte adds nothing to the hash).
    static let collisions: [([UInt8], [UInt8])] = [
        (Array("v6bh6r5r".utf8), Array("5628jdsq".utf8)),
        (Array("a".utf8), Array("a".utf8) + [0]),
    ]

    @Test("a table filled to capacity finds every key, before and after a restart, and refuses one more",
          arguments: [8, 64, 65, 200])
    func fillToCapacity(capacity: Int) throws {
        let geometry = Self.geometry(capacity: capacity)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for index in 0..<capacity { try store.put(Self.key(index), Self.value(index)) }
        #expect(throws: KVSError.resourceExhausted) { try store.put(Self.key(capacity), Self.value(capacity)) }
        #expect(store.lastWriteState == .notWritten)
        #expect(store.count == capacity)
        #expect(store.invariantViolations().isEmpty)
        // An existing key still takes a new value: it keeps its slot.
        try store.put(Self.key(0), Self.value(0, version: 1))

        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.count == capacity)
        for index in 1..<capacity { #expect(try storeValue(reopened, Self.key(index)) == Self.value(index)) }
        #expect(try storeValue(reopened, Self.key(0)) == Self.value(0, version: 1))
        #expect(throws: KVSError.notFound) { try storeValue(reopened, Self.key(capacity)) }
    }

    @Test("1000 keys: each get finds its own value in the documented two flash reads; absent keys are not found")
    func thousandLookups() throws {
        let geometry = Self.geometry(capacity: 1000)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for index in 0..<1000 { try store.put(Self.key(index), Self.value(index)) }
        #expect(store.invariantViolations().isEmpty)
        for index in stride(from: 999, through: 0, by: -1) {
            var buffer = [UInt8](repeating: 0, count: 11)
            var span = buffer.mutableSpan
            flash.resetCounters()
            let count = try store.get(Self.key(index), into: &span)
            // get: "O(1) lookup; reads header and key, then the value (2 reads)" -- no other key's entry is read,
            // and the bytes read are those of the entry: header, key, value.
            #expect(flash.counters.readCalls == 2, "key \(index)")
            #expect(flash.counters.bytesRead == 16 + Self.key(index).utf8.count + 11, "key \(index)")
            #expect(count == 11 && buffer == Self.value(index), "key \(index)")
        }
        flash.resetCounters()
        for index in 1000..<1100 { #expect(throws: KVSError.notFound) { try storeValue(store, Self.key(index)) } }
        #expect(flash.counters.readCalls == 0, "an absent hash is decided in RAM")
    }

    @Test("a key whose hash another stored key has is refused with .alreadyExists and never read as the other",
          arguments: [8, 100])
    func hashCollisions(capacity: Int) throws {
        for (stored, colliding) in Self.collisions {
            try #require(KeyHash.of(stored.span) == KeyHash.of(colliding.span) && stored != colliding)
            let geometry = Self.geometry(capacity: capacity)
            let store = try geometry.openStore(on: geometry.makeFlash())
            for index in 0..<(capacity - 1) { try store.put(Self.key(index), Self.value(index)) }
            try store.put(stored.span, Array("first".utf8).span)

            #expect(throws: KVSError.alreadyExists) { try store.put(colliding.span, Array("second".utf8).span) }
            #expect(store.lastWriteState == .notWritten)
            #expect(throws: KVSError.notFound) { try storeValue(store, colliding) }
            #expect(throws: KVSError.notFound) { try store.valueSize(colliding.span) }
            #expect(throws: KVSError.notFound) { try store.delete(colliding.span) }
            #expect(try storeValue(store, stored) == Array("first".utf8))
            #expect(store.count == capacity)
            #expect(store.invariantViolations().isEmpty)
        }
    }

    @Test("a deleted key keeps its slot and its hash until heavy maintenance frees them")
    func deletedKeyHoldsItsHashUntilHeavyMaintenance() throws {
        let (stored, colliding) = Self.collisions[0]
        try #require(KeyHash.of(stored.span) == KeyHash.of(colliding.span))
        let geometry = Self.geometry(capacity: 100)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for index in 0..<70 { try store.put(Self.key(index), Self.value(index)) }
        try store.put(stored.span, Array("first".utf8).span)
        try store.delete(stored.span)
        // The tombstone is stored under that hash: the colliding key is still refused.
        #expect(throws: KVSError.alreadyExists) { try store.put(colliding.span, Array("second".utf8).span) }

        try store.heavyMaintenance()
        #expect(store.totalEntriesWithDeleted == 70)
        try store.put(colliding.span, Array("second".utf8).span)
        #expect(try storeValue(store, colliding) == Array("second".utf8))
        #expect(throws: KVSError.notFound) { try storeValue(store, stored) }
        #expect(store.invariantViolations().isEmpty)
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeValue(reopened, colliding) == Array("second".utf8))
        #expect(throws: KVSError.notFound) { try storeValue(reopened, stored) }
    }

    @Test("slots freed by heavy maintenance are taken by new keys; every key is found after the table is reordered",
          arguments: [30, 100])
    func slotReuseAfterHeavyMaintenance(capacity: Int) throws {
        // Collection on write disabled: only heavy maintenance frees slots.
        let geometry = Self.geometry(capacity: capacity, options: .gcDisabled)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        var model: [[UInt8]: [UInt8]] = [:]
        for index in 0..<capacity {
            try store.put(Self.key(index), Self.value(index))
            model[Array(Self.key(index).utf8)] = Self.value(index)
        }
        let deleted = Array(stride(from: 0, to: capacity, by: 3))
        for index in deleted {
            try store.delete(Self.key(index))
            model[Array(Self.key(index).utf8)] = nil
        }
        #expect(throws: KVSError.resourceExhausted) { try store.put("new", Self.value(0)) }
        // A deleted key comes back into its own slot.
        try store.put(Self.key(0), Self.value(0, version: 1))
        model[Array(Self.key(0).utf8)] = Self.value(0, version: 1)
        #expect(store.totalEntriesWithDeleted == capacity)

        try store.heavyMaintenance()
        #expect(store.totalEntriesWithDeleted == capacity - deleted.count + 1)
        #expect(store.invariantViolations().isEmpty)
        #expect(try storeContents(store) == model)
        for index in deleted.dropFirst() {  // each lookup goes through the rebuilt table
            #expect(throws: KVSError.notFound) { try storeValue(store, Self.key(index)) }
        }

        for index in 0..<(deleted.count - 1) {
            let key = Self.key(5000 + index)
            try store.put(key, Self.value(5000 + index))
            model[Array(key.utf8)] = Self.value(5000 + index)
        }
        #expect(throws: KVSError.resourceExhausted) { try store.put("new", Self.value(0)) }
        #expect(store.count == capacity && store.totalEntriesWithDeleted == capacity)
        for (key, value) in model { #expect(try storeValue(store, key) == value) }
        #expect(store.invariantViolations().isEmpty)
        #expect(try storeContents(try geometry.openStore(on: flash)) == model)
    }

    @Test("with collection on write, a new key into a full table frees deleted keys' slots by itself")
    func fullTableMakesRoomOnPut() throws {
        let geometry = Self.geometry(capacity: 80)
        let store = try geometry.openStore(on: geometry.makeFlash())
        for index in 0..<80 { try store.put(Self.key(index), Self.value(index)) }
        for index in 40..<50 { try store.delete(Self.key(index)) }
        for index in 100..<110 { try store.put(Self.key(index), Self.value(index)) }
        #expect(store.count == 80 && store.totalEntriesWithDeleted == 80)
        #expect(throws: KVSError.resourceExhausted) { try store.put(Self.key(200), Self.value(200)) }
        for index in 0..<40 { #expect(try storeValue(store, Self.key(index)) == Self.value(index)) }
        for index in 100..<110 { #expect(try storeValue(store, Self.key(index)) == Self.value(index)) }
        #expect(store.invariantViolations().isEmpty)
    }
}
