import FlashKVS
import Testing

/// Iteration over `items`: it yields each present key once (deleted keys
/// skipped), values read through an item equal those read by key, and the
/// order is the documented pw_kvs order -- keys in the order they were
/// first written (or first found by `initialize()`), kept by updates and
/// full maintenance; only heavy maintenance may change it.
@Suite("Iteration")
struct IterationTests {
    /// 8 x 1 KiB, redundancy 2: room for 100 keys of 32-byte entries.
    static let geometry = StoreGeometry(sectorSize: 1024, sectorCount: 8, flashAlignment: 16, redundancy: 2, capacity: 100)
    /// 8 x 512 B, redundancy 2: 70 % of the partition is 2867.2 bytes.
    static let small = StoreGeometry(sectorSize: 512, sectorCount: 8, flashAlignment: 16, redundancy: 2)

    static func value(_ number: Int) -> [UInt8] { Array("value \(number)".utf8) }

    /// The keys `items` yields, in order, as strings.
    static func order(_ store: KeyValueStore<RAMFlash>) -> [String] {
        store.items.map { String(decoding: store.key(of: $0), as: UTF8.self) }
    }

    @Test("an empty store, and one whose keys are all deleted, yield nothing")
    func emptyIteration() throws {
        let store = try Self.geometry.openStore(on: Self.geometry.makeFlash())
        #expect(storeItemCount(store) == 0)
        try store.put("a", [1])
        try store.put("b", [2])
        try store.delete("a")
        try store.delete("b")
        #expect(storeItemCount(store) == 0)
        #expect(store.totalEntriesWithDeleted == 2, "the deleted keys are still tracked, just not yielded")
    }

    @Test("deleted keys are skipped; every present key is yielded once, above 64 keys too")
    func deletedKeysAreSkipped() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.geometry.openStore(on: flash)
        var model: [[UInt8]: [UInt8]] = [:]
        for index in 0..<80 {
            try store.put("key\(index)", Self.value(index))
            model[Array("key\(index)".utf8)] = Self.value(index)
        }
        for index in stride(from: 1, to: 80, by: 4) {
            try store.delete("key\(index)")
            model[Array("key\(index)".utf8)] = nil
        }
        let order = Self.order(store)
        #expect(order.count == store.count && Set(order).count == order.count, "each key once")
        #expect(try storeContents(store) == model)
        let reopened = try Self.geometry.openStore(on: flash)
        #expect(try storeContents(reopened) == model)
    }

    @Test("an item gives the key and value that lookups by key give")
    func valuesThroughItems() throws {
        let store = try Self.geometry.openStore(on: Self.geometry.makeFlash())
        try store.put("short", [7])
        try store.put("long", [UInt8](0..<200))
        try store.put("empty", [])
        for item in store.items {
            let key = store.key(of: item)
            #expect(item.keyCount == key.count && item.key == key)
            let expected = try storeValue(store, key)
            #expect(try store.valueSize(of: item) == expected.count)
            var buffer = [UInt8](repeating: 0xEE, count: expected.count + 4)
            var span = buffer.mutableSpan
            #expect(try store.get(item, into: &span) == expected.count)
            #expect(Array(buffer.prefix(expected.count)) == expected)
            if expected.count > 3 {  // an offset read returns the rest
                var rest = [UInt8](repeating: 0, count: expected.count - 3)
                var restSpan = rest.mutableSpan
                #expect(try store.get(item, into: &restSpan, offset: 3) == expected.count - 3)
                #expect(rest == Array(expected.dropFirst(3)))
            }
            var keyBuffer = [UInt8](repeating: 0, count: key.count)
            var keySpan = keyBuffer.mutableSpan
            #expect(try store.key(of: item, into: &keySpan) == key.count && keyBuffer == key)
            var shortKey = [UInt8](repeating: 0, count: key.count - 1)
            var shortSpan = shortKey.mutableSpan
            #expect(throws: KVSError.resourceExhausted) { try store.key(of: item, into: &shortSpan) }
        }
        #expect(Set(Self.order(store)) == ["short", "long", "empty"])
    }

    @Test("keys come in the order they were first written; updates and re-puts of deleted keys keep their place")
    func orderOfFirstWrites() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.geometry.openStore(on: flash)
        for key in ["d", "b", "e", "a", "c"] { try store.put(key, Self.value(0)) }
        #expect(Self.order(store) == ["d", "b", "e", "a", "c"])
        try store.put("a", Self.value(1))
        try store.delete("b")
        #expect(Self.order(store) == ["d", "e", "a", "c"])
        try store.put("b", Self.value(2))
        try store.put("f", Self.value(3))  // new keys are appended
        #expect(Self.order(store) == ["d", "b", "e", "a", "c", "f"])

        // All these entries sit in one sector in write order, so initialize()
        // finds each key's first version in the same order.
        let reopened = try Self.geometry.openStore(on: flash)
        #expect(Self.order(reopened) == ["d", "b", "e", "a", "c", "f"])
        #expect(try storeContents(reopened) == (try storeContents(store)))
    }

    @Test("full maintenance keeps the order, heavy maintenance keeps the keys and values")
    func iterationAfterMaintenance() throws {
        let flash = Self.small.makeFlash()
        let store = try Self.small.openStore(on: flash)
        var model: [[UInt8]: [UInt8]] = [:]
        for round in 0..<90 {  // enough versions that collection on write has run
            let key = "key\(round % 9)"
            try store.put(key, Self.value(round))
            model[Array(key.utf8)] = Self.value(round)
        }
        try store.delete("key4")
        model[Array("key4".utf8)] = nil
        try #require(store.storageStats.sectorEraseCount > 0)
        let order = Self.order(store)
        #expect(order == (0..<9).filter { $0 != 4 }.map { "key\($0)" })

        try store.heavyMaintenance()  // drops key4: the order may change
        #expect(store.invariantViolations().isEmpty)
        #expect(try storeContents(store) == model)
        let afterHeavy = Self.order(store)
        #expect(Set(afterHeavy) == Set(order) && afterHeavy.count == order.count)

        // (8 + 38) keys x 2 copies x 32 bytes = 2944 bytes: above 70 %, so
        // full maintenance collects sectors that hold live entries too.
        for index in 0..<38 {
            try store.put("fill\(index)", Self.value(index))
            model[Array("fill\(index)".utf8)] = Self.value(index)
        }
        try store.put("key0", Self.value(99))
        model[Array("key0".utf8)] = Self.value(99)
        let before = Self.order(store)
        let erasesBefore = store.storageStats.sectorEraseCount
        try store.fullMaintenance()
        try #require(store.storageStats.sectorEraseCount > erasesBefore, "full maintenance must have collected")
        #expect(Self.order(store) == before)
        #expect(try storeContents(store) == model)
        #expect(store.invariantViolations().isEmpty)

        let reopened = try Self.small.openStore(on: flash)
        #expect(try storeContents(reopened) == model)
    }
}
