import FlashKVS
import Testing

// Ports of the reference tests that exercise the public API (spec 5.7
// key_value_store_test, 5.8 key_value_store_initialized_test, 5.10
// key_value_store_put_test, 5.13 key_value_store_fuzz_test), plus the
// documented errors for bad input and defect B1 (spec 7.2).

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
/// A C string literal as the reference stores it: with its NUL.
private func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

/// The flash configurations of the reference's initialized-store suite
/// (6 x 4096 with alignment 1, 16, 64, 256; spec 5.8), each with CRC16 and
/// without a checksum, and one with large 16 KiB sectors standing in for
/// the reference's 4-per-logical-sector configuration.
let storeInitializedConfigurations: [StoreGeometry] =
    [1, 16, 64, 256].flatMap { alignment in
        [true, false].map { checksummed in
            StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: alignment, checksummed: checksummed)
        }
    } + [StoreGeometry(sectorSize: 16384, sectorCount: 6, flashAlignment: 1)]

// MARK: - key_value_store_initialized_test (spec 5.8)

@Suite("Initialized store (reference initialized-store suite)")
struct InitializedStoreTests {
    struct Pair: BitwiseCopyable, Equatable {
        var first: Float
        var second: Float
    }

    struct Mixed: BitwiseCopyable, Equatable {
        var a: Float
        var b: Bool
    }

    @Test(arguments: storeInitializedConfigurations)
    func putSameKeySameValueRepeatedlyWritesOnce(geometry: StoreGeometry) throws {
        for value in [cString("value67"), cString("value6")] {  // aligned (8) and unaligned (7) lengths
            let flash = geometry.makeFlash()
            let store = try geometry.openStore(on: flash)
            for _ in 0..<1000 { try store.put("The Key!", value) }
            #expect(try storeValue(store, "The Key!") == value)
            #expect(store.transactionCount == 1, "identical puts write nothing (spec 4.5.2)")
            #expect(store.storageStats.reclaimableBytes == 0)
            #expect(flash.counters.eraseCalls == 0)
        }
    }

    @Test(arguments: storeInitializedConfigurations)
    func putSameKeyDifferentValuesRepeatedly(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for round in 0..<100 {
            for size in 0..<10 {
                try store.put("The Key!", value: Int32(round * 10 + size))
            }
        }
        #expect(try store.get("The Key!", as: Int32.self) == 999)
        #expect(store.count == 1)
        #expect(store.transactionCount == 1000)
        let reopened = try geometry.openStore(on: flash)
        #expect(try reopened.get("The Key!", as: Int32.self) == 999)
        #expect(reopened.transactionCount == 1000)
    }

    @Test(arguments: storeInitializedConfigurations)
    func putAndGetByValue(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        let pair = Pair(first: 1.0, second: -3.5)
        try store.put("key", value: pair)
        #expect(try store.get("key", as: Pair.self) == pair)
        #expect(try store.valueSize("key") == 8)

        let mixed = Mixed(a: -1234.5, b: true)
        try store.put("struct", value: mixed)
        #expect(try store.valueSize("struct") == MemoryLayout<Mixed>.size)
        #expect(try store.get("struct", as: Mixed.self) == mixed)
    }

    @Test(arguments: storeInitializedConfigurations)
    func getSimple(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("Charles", cString("Mingus"))
        let outcome = storeRead(store, "Charles", bufferSize: 16)
        #expect(outcome.count == 7)
        #expect(Array(outcome.buffer.prefix(7)) == cString("Mingus"))
        #expect(outcome.buffer[7...].allSatisfy { $0 == 0xEE }, "bytes past the value are untouched")
    }

    @Test(arguments: storeInitializedConfigurations)
    func getWithOffset(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("Charles", cString("Mingus"))
        let outcome = storeRead(store, "Charles", bufferSize: 16, offset: 4)
        #expect(outcome.count == 3)
        #expect(Array(outcome.buffer.prefix(3)) == cString("us"))
    }

    @Test(arguments: storeInitializedConfigurations)
    func getWithOffsetFillsASmallBuffer(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("Charles", cString("Mingus"))
        let outcome = storeRead(store, "Charles", bufferSize: 3, offset: 1)
        #expect(outcome.error == .resourceExhausted)
        #expect(outcome.buffer == bytes("ing"))
    }

    @Test(arguments: storeInitializedConfigurations)
    func getWithOffsetAtAndPastTheEnd(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("Charles", cString("Mingus"))
        let atEnd = storeRead(store, "Charles", bufferSize: 16, offset: 7)
        #expect(atEnd.count == 0, "offset == value size reads nothing (spec 1.8)")
        #expect(atEnd.buffer.allSatisfy { $0 == 0xEE })
        #expect(storeRead(store, "Charles", bufferSize: 16, offset: 8).error == .outOfRange)
        #expect(storeRead(store, "Charles", bufferSize: 16, offset: -1).error == .outOfRange)
    }

    @Test(arguments: storeInitializedConfigurations)
    func getWholeValueIntoATooSmallBufferFillsItWithoutVerifying(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("Charles", cString("Mingus"))
        let outcome = storeRead(store, "Charles", bufferSize: 4)
        #expect(outcome.error == .resourceExhausted)
        #expect(outcome.buffer == bytes("Ming"))
        #expect(storeRead(store, "Charles", bufferSize: 0).error == .resourceExhausted)
    }

    @Test(arguments: storeInitializedConfigurations)
    func getValue(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("key", value: UInt32(0xfeed_beef))
        #expect(try store.get("key", as: UInt32.self) == 0xfeed_beef)
    }

    @Test(arguments: storeInitializedConfigurations)
    func getValueOfTheWrongSizeFailsWithInvalidArgument(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("key", value: UInt32(0xfeed_beef))
        var small: UInt8 = 0
        #expect(throws: KVSError.invalidArgument) { small = try store.get("key", as: UInt8.self) }
        #expect(small == 0)
        var large: UInt64 = 0
        #expect(throws: KVSError.invalidArgument) { large = try store.get("key", as: UInt64.self) }
        #expect(large == 0)
        #expect(try store.get("key", as: UInt32.self) == 0xfeed_beef)
    }

    @Test(arguments: storeInitializedConfigurations)
    func deletedKeyIsNotFound(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("kEy", cString("123"))
        try store.delete("kEy")
        #expect(storeRead(store, "kEy", bufferSize: 0).error == .notFound)
        #expect(storeRead(store, "kEy", bufferSize: 16).error == .notFound)
        #expect(throws: KVSError.notFound) { try store.valueSize("kEy") }
        #expect(throws: KVSError.notFound) { try store.get("kEy", as: UInt32.self) }
        #expect(throws: KVSError.notFound) { try store.delete("kEy") }
        #expect(store.count == 0)
        #expect(store.isEmpty)
        #expect(store.totalEntriesWithDeleted == 1)
    }

    @Test(arguments: storeInitializedConfigurations)
    func deletedAndReaddedKeyPersistsAcrossANewStore(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("kEy", cString("123"))
        try store.delete("kEy")
        try store.put("kEy", cString("45678"))
        #expect(try storeValue(store, "kEy") == cString("45678"))

        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.count == 1)
        #expect(try storeValue(reopened, "kEy") == cString("45678"))
        let transactions = reopened.transactionCount
        try reopened.put("kEy", cString("45678"))
        #expect(reopened.transactionCount == transactions, "the value was already stored")
    }

    @Test(arguments: storeInitializedConfigurations)
    func deletingAllItemsEmptiesTheStore(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("kEy", cString("123"))
        try store.delete("kEy")
        #expect(store.count == 0)
        #expect(store.isEmpty)
        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.isEmpty)
        #expect(storeItemCount(reopened) == 0)
    }

    @Test(arguments: storeInitializedConfigurations)
    func collisionWithAPresentKey(geometry: StoreGeometry) throws {
        try #require(KeyHash.of(bytes("D4").span) == 0x19df_36f0)
        try #require(KeyHash.of(bytes("dFU6S").span) == 0x19df_36f0)
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("D4", value: Int32(1000))
        #expect(throws: KVSError.alreadyExists) { try store.put("dFU6S", value: Int32(999)) }
        #expect(try store.get("D4", as: Int32.self) == 1000)
        #expect(throws: KVSError.notFound) { try store.get("dFU6S", as: Int32.self) }
        #expect(storeRead(store, "dFU6S", bufferSize: 4).error == .notFound)
        #expect(throws: KVSError.notFound) { try store.valueSize("dFU6S") }
        #expect(throws: KVSError.notFound) { try store.delete("dFU6S") }
        #expect(store.count == 1)
    }

    @Test(arguments: storeInitializedConfigurations)
    func collisionWithADeletedKey(geometry: StoreGeometry) throws {
        try #require(KeyHash.of(bytes("1U2").span) == 0x4060_f732)
        try #require(KeyHash.of(bytes("ahj9d").span) == 0x4060_f732)
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("1U2", value: Int32(1000))
        try store.delete("1U2")
        #expect(throws: KVSError.alreadyExists) { try store.put("ahj9d", value: Int32(999)) }
        #expect(throws: KVSError.notFound) { try store.get("1U2", as: Int32.self) }
        #expect(throws: KVSError.notFound) { try store.get("ahj9d", as: Int32.self) }
        #expect(throws: KVSError.notFound) { try store.valueSize("ahj9d") }
        #expect(throws: KVSError.notFound) { try store.delete("ahj9d") }
        #expect(store.count == 0)
    }

    @Test(arguments: storeInitializedConfigurations)
    func iterationOfAnEmptyStoreYieldsNothing(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        for _ in store.items { Issue.record("an empty store has no items") }
    }

    @Test(arguments: storeInitializedConfigurations)
    func iterationOfOneItem(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("kEy", cString("123"))
        var seen = 0
        for item in store.items {
            seen += 1
            #expect(store.key(of: item) == bytes("kEy"))
            #expect(try store.valueSize(of: item) == 4)
            var value = [UInt8](repeating: 0, count: 4)
            var span = value.mutableSpan
            #expect(try store.get(item, into: &span) == 4)
            #expect(value == cString("123"))
        }
        #expect(seen == 1)
    }

    @Test(arguments: storeInitializedConfigurations)
    func iterationKeyNeedsABufferForTheWholeKey(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("kEy", cString("123"))
        let item = try #require(store.items.first { _ in true })
        var small = [UInt8](repeating: 0, count: 2)
        #expect(throws: KVSError.resourceExhausted) {
            var span = small.mutableSpan
            _ = try store.key(of: item, into: &span)
        }
        var exact = [UInt8](repeating: 0, count: 3)
        var span = exact.mutableSpan
        #expect(try store.key(of: item, into: &span) == 3)
        #expect(exact == bytes("kEy"))
    }

    @Test(arguments: storeInitializedConfigurations)
    func iterationGetWithOffset(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("key", cString("not bad!"))
        var seen = 0
        for item in store.items {
            seen += 1
            var value = [UInt8](repeating: 0xEE, count: 5)
            var span = value.mutableSpan
            #expect(try store.get(item, into: &span, offset: 4) == 5)
            #expect(value == cString("bad!"))
            var tooSmall = [UInt8](repeating: 0xEE, count: 2)
            #expect(throws: KVSError.resourceExhausted) {
                var span = tooSmall.mutableSpan
                try store.get(item, into: &span, offset: 4)
            }
            #expect(tooSmall == bytes("ba"))
            #expect(throws: KVSError.outOfRange) {
                var span = value.mutableSpan
                try store.get(item, into: &span, offset: 10)
            }
        }
        #expect(seen == 1)
    }

    @Test(arguments: storeInitializedConfigurations)
    func iterationSkipsDeletedKeys(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("kEy", cString("123"))
        try store.delete("kEy")
        #expect(storeItemCount(store) == 0)
        try store.put("a", [1])
        try store.put("b", [2])
        try store.put("c", [3])
        try store.delete("b")
        #expect(try storeContents(store) == [bytes("a"): [1], bytes("c"): [3]])
    }

    @Test(arguments: storeInitializedConfigurations)
    func emptyValueIsAPresentKey(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("empty", [])
        #expect(store.count == 1)
        #expect(try store.valueSize("empty") == 0)
        #expect(storeRead(store, "empty", bufferSize: 4).count == 0)
        try store.delete("empty")
        #expect(store.count == 0)
        // A tombstone also has no value bytes, but re-adding the empty value must write (spec 4.5.2).
        try store.put("empty", [])
        #expect(store.count == 1)
        #expect(store.transactionCount == 3)
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeContents(reopened) == [bytes("empty"): []])
    }

    @Test(arguments: storeInitializedConfigurations)
    func iterationFollowsTheKeyTableOrder(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for name in ["a", "b", "c", "d"] { try store.put(name, bytes(name)) }
        try store.put("a", [9])  // an update keeps the key's place
        #expect(store.items.map { store.key(of: $0) } == ["a", "b", "c", "d"].map(bytes))
        // After a restart: the order in which each key's first entry is found on flash (spec 4.12).
        let reopened = try geometry.openStore(on: flash)
        #expect(reopened.items.map { reopened.key(of: $0) } == ["a", "b", "c", "d"].map(bytes))
        // Heavy maintenance frees deleted keys' slots by moving the last key into them (spec 4.9.3).
        try store.delete("b")
        #expect(store.items.map { store.key(of: $0) } == ["a", "c", "d"].map(bytes))
        try store.heavyMaintenance()
        #expect(store.items.map { store.key(of: $0) } == ["a", "d", "c"].map(bytes))
        #expect(try storeContents(store) == [bytes("a"): [9], bytes("c"): bytes("c"), bytes("d"): bytes("d")])
    }

    @Test(arguments: storeInitializedConfigurations)
    func basic(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("TestKey1", [0xDA])
        try store.put("Key2", value: UInt32(0xBAD0_301F))
        #expect(try store.get("Key2", as: UInt32.self) == 0xBAD0_301F)
        #expect(try store.get("TestKey1", as: UInt8.self) == 0xDA)
        try store.delete("TestKey1")
        #expect(throws: KVSError.notFound) { try store.get("TestKey1", as: UInt8.self) }
        #expect(try storeValue(store, "Key2") == storeBytes(of: UInt32(0xBAD0_301F)))
        try store.delete("Key2")
        #expect(store.count == 0)
    }

    // Spec 7.2 B1: a key that is a prefix of a stored key with the same hash.
    @Test(arguments: storeInitializedConfigurations)
    func prefixOfAStoredKeyWithTheSameHashIsADifferentKey(geometry: StoreGeometry) throws {
        try #require(KeyHash.of(bytes("ab").span) == KeyHash.of(bytes("abOObfWS").span))
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("abOObfWS", [1, 2, 3, 4, 5])
        #expect(storeRead(store, "ab", bufferSize: 16).error == .notFound)
        #expect(throws: KVSError.notFound) { try store.valueSize("ab") }
        #expect(throws: KVSError.notFound) { try store.get("ab", as: UInt8.self) }
        #expect(throws: KVSError.alreadyExists) { try store.put("ab", [9]) }
        #expect(throws: KVSError.notFound) { try store.delete("ab") }
        #expect(try storeValue(store, "abOObfWS") == [1, 2, 3, 4, 5])
        #expect(store.count == 1)
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeContents(reopened) == [bytes("abOObfWS"): [1, 2, 3, 4, 5]])
    }

    @Test(arguments: storeInitializedConfigurations)
    func storedPrefixWithTheSameHashBlocksTheLongerKey(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("ab", [7])
        #expect(throws: KVSError.alreadyExists) { try store.put("abOObfWS", [1]) }
        #expect(throws: KVSError.notFound) { try store.valueSize("abOObfWS") }
        #expect(throws: KVSError.notFound) { try store.delete("abOObfWS") }
        #expect(try storeValue(store, "ab") == [7])
    }
}

// MARK: - key_value_store_test (spec 5.7)

@Suite("Store basics (reference key_value_store_test)")
struct StoreBasicsTests {
    /// `Flash` of the reference: 6 x 512, alignment 16.
    static func smallFlashGeometry(checksummed: Bool, magic: UInt32) -> StoreGeometry {
        StoreGeometry(sectorSize: 512, sectorCount: 6, flashAlignment: 16, checksummed: checksummed, magic: magic)
    }

    /// `large_test_flash` of the reference: 60 x 1024, alignment 8.
    static let largeGeometry = StoreGeometry(
        sectorSize: 1024, sectorCount: 60, flashAlignment: 8, magic: 0xa6cb_3c16)

    @Test func initWithTooFewSectorsFailsWithFailedPrecondition() throws {
        let flash = RAMFlash(sectorSize: 4096, sectorCount: 1, alignment: 16)
        let store = try KeyValueStore(
            partition: try FlashPartition(flash), format: EntryFormat(magic: 0x89bb_14d2, checksum: .none),
            capacity: 256, maxSectors: 256)
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(store.state == .notInitialized)
        #expect(!store.isInitialized)
        #expect(throws: KVSError.failedPrecondition) { try store.put("k", [1]) }
    }

    @Test func initWithZeroSectorsFailsWithFailedPrecondition() throws {
        let flash = RAMFlash(sectorSize: 4096, sectorCount: 1, alignment: 16)
        let store = try KeyValueStore(
            partition: try FlashPartition(flash, sectorCount: 0),
            format: EntryFormat(magic: 0xd1da_57c1, checksum: .none), capacity: 256, maxSectors: 256)
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(store.state == .notInitialized)
    }

    @Test func zeroSectorPartitionWithDefaultMaxSectorsIsRejectedAtConstruction() throws {
        let flash = RAMFlash(sectorSize: 4096, sectorCount: 1, alignment: 16)
        let partition = try FlashPartition(flash, sectorCount: 0)
        #expect(throws: KVSError.invalidArgument) {
            _ = try KeyValueStore(partition: partition, format: EntryFormat(magic: 1, checksum: .none), capacity: 256)
        }
    }

    @Test func initWithMoreSectorsThanTheTableFailsWithFailedPrecondition() throws {
        let flash = RAMFlash(sectorSize: 4096, sectorCount: 5, alignment: 16)
        let store = try KeyValueStore(
            partition: try FlashPartition(flash), format: EntryFormat(magic: 0x610f_6d17, checksum: .none),
            capacity: 256, maxSectors: 2)
        #expect(!store.checkForErrors(), "nothing scanned yet; the partition's sectors are not indexed")
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(store.state == .notInitialized)
        #expect(!store.checkForErrors())
    }

    @Test func writeOneKeyMultipleTimesAcrossReloads() throws {
        let geometry = Self.smallFlashGeometry(checksummed: false, magic: 0x083a_9257)
        let flash = geometry.makeFlash()
        for reload in 0..<2 {
            let store = try geometry.openStore(on: flash)
            #expect(store.count == (reload == 0 ? 0 : 1))
            var written: UInt32 = 0
            for index in UInt32(0)..<99 {
                written = index + 0xfc
                try store.put("abcd", value: written)
                #expect(store.count == 1)
            }
            #expect(try store.get("abcd", as: UInt32.self) == written)
        }
        #expect(flash.counters.eraseCalls > 0, "99 x 32-byte entries in 6 x 512 need garbage collection")
    }

    @Test func writingMultipleKeysIncreasesSize() throws {
        let geometry = Self.smallFlashGeometry(checksummed: false, magic: 0x2ed3_a058)
        let store = try geometry.openStore(on: geometry.makeFlash())
        #expect(store.count == 0)
        for index in 0..<10 {
            try store.put("key_\(index)", value: index + 77)
            #expect(store.count == index + 1)
        }
    }

    @Test func writeAndReadOneKey() throws {
        let geometry = Self.smallFlashGeometry(checksummed: false, magic: 0x05d7_0896)
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("Key1", value: UInt8(0xDA))
        #expect(store.count == 1)
        #expect(try store.get("Key1", as: UInt8.self) == 0xDA)
    }

    @Test func writeOneKeyValueMultipleTimesWritesOneTransaction() throws {
        let geometry = Self.smallFlashGeometry(checksummed: true, magic: 0xa6cb_3c16)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for _ in 0..<50 {
            try store.put("Key1", value: UInt8(0xDA))
            #expect(store.count == 1)
        }
        #expect(try store.get("Key1", as: UInt8.self) == 0xDA)
        #expect(store.count == 1)
        #expect(store.transactionCount == 1)
        #expect(store.storageStats.reclaimableBytes == 0)
        #expect(flash.counters.writeCalls == 1)
    }

    @Test func callingDeleteTwiceWritesNothingTheSecondTime() throws {
        let geometry = Self.smallFlashGeometry(checksummed: true, magic: 0xa6cb_3c16)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        try store.put("TestKey1", value: UInt8(0xDA))
        try store.delete("TestKey1")
        let before = flash.contents
        let writesBefore = flash.counters.writeCalls
        let transactions = store.transactionCount
        #expect(throws: KVSError.notFound) { try store.delete("TestKey1") }
        #expect(flash.contents == before)
        #expect(flash.counters.writeCalls == writesBefore)
        #expect(store.transactionCount == transactions)
    }

    @Test func largeStoreBasic() throws {
        let store = try Self.largeGeometry.openStore(on: Self.largeGeometry.makeFlash())
        try store.put("TestKey1", value: UInt8(0xDA))
        #expect(store.count == 1)
        try store.delete("TestKey1")
        #expect(throws: KVSError.notFound) { try store.get("TestKey1", as: UInt8.self) }
        try store.put("Key2", value: UInt8(0xDA))
        try store.put("TestKey3", value: UInt8(0x12))
        try store.delete("Key2")
        #expect(try store.get("TestKey3", as: UInt8.self) == 0x12)
        #expect(throws: KVSError.notFound) { try store.get("Key2", as: UInt8.self) }
        #expect(store.count == 1)
    }

    @Test func fullMaintenanceLeavesLiveSectorsAndHeavyMaintenanceCollectsThem() throws {
        let store = try Self.largeGeometry.openStore(on: Self.largeGeometry.makeFlash())
        try store.put("TestKey1", value: UInt8(0xDA))
        try store.put("TestKey1", value: UInt8(0x12))
        #expect(store.count == 1)
        var stats = store.storageStats
        #expect(stats.sectorEraseCount == 0)
        #expect(stats.reclaimableBytes > 0)

        try store.fullMaintenance()
        stats = store.storageStats
        #expect(stats.sectorEraseCount == 0, "under 70 % use, regular maintenance skips sectors with live data")
        #expect(stats.reclaimableBytes > 0)

        try store.heavyMaintenance()
        stats = store.storageStats
        #expect(stats.sectorEraseCount == 1)
        #expect(stats.reclaimableBytes == 0)
        #expect(try store.get("TestKey1", as: UInt8.self) == 0x12)
    }

    @Test func heavyMaintenanceDropsDeletedKeys() throws {
        let store = try Self.largeGeometry.openStore(on: Self.largeGeometry.makeFlash())
        try store.put("TestKey1", value: UInt8(0xDA))
        #expect(store.count == 1)
        try store.delete("TestKey1")
        #expect(throws: KVSError.notFound) { try store.get("TestKey1", as: UInt8.self) }
        #expect(store.count == 0)
        #expect(store.totalEntriesWithDeleted == 1)
        var stats = store.storageStats
        #expect(stats.sectorEraseCount == 0)
        #expect(stats.reclaimableBytes > 0)

        try store.heavyMaintenance()
        stats = store.storageStats
        #expect(stats.reclaimableBytes == 0)
        #expect(store.count == 0)
        #expect(stats.sectorEraseCount > 1)
        #expect(store.totalEntriesWithDeleted == 0)

        // Again with two keys, keeping one.
        try store.put("TestKey1", value: UInt8(0xDA))
        try store.put("Key2", value: UInt8(0x12))
        #expect(store.count == 2)
        try store.delete("TestKey1")
        #expect(throws: KVSError.notFound) { try store.get("TestKey1", as: UInt8.self) }
        #expect(store.count == 1)
        #expect(store.totalEntriesWithDeleted == 2)

        try store.heavyMaintenance()
        #expect(store.count == 1)
        #expect(store.totalEntriesWithDeleted == 1)
        #expect(try store.get("Key2", as: UInt8.self) == 0x12)
        #expect(throws: KVSError.notFound) { try store.get("TestKey1", as: UInt8.self) }
    }

    @Test func putMaxValueSize() throws {
        let geometry = Self.smallFlashGeometry(checksummed: true, magic: 0xa6cb_3c16)
        let store = try geometry.openStore(on: geometry.makeFlash())
        #expect(store.maxKeyValueSize == 496)
        let maxValueSize = 512 - 16 - 1
        let data = (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try store.put("K", Array(data.prefix(maxValueSize)))
        #expect(try storeValue(store, "K") == Array(data.prefix(maxValueSize)))
        #expect(throws: KVSError.invalidArgument) { try store.put("K", Array(data.prefix(maxValueSize + 1))) }
        #expect(throws: KVSError.invalidArgument) { try store.put("K", data) }
        #expect(try storeValue(store, "K") == Array(data.prefix(maxValueSize)))
    }
}

// MARK: - key_value_store_put_test (spec 5.10)

@Suite("Put with varying keys and values (reference key_value_store_put_test)")
struct VaryingPutTests {
    static let configurations = [
        StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: 16, magic: 0x873a_9b50),
        StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: 1, magic: 0x873a_9b50),
        StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: 64, checksummed: false, magic: 0x873a_9b50),
    ]

    @Test(arguments: configurations)
    func putVaryingKeysAndValues(geometry: StoreGeometry) throws {
        let text = cString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ34567890123")
        try #require(text.count == 64)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        for _ in 0..<2 {
            for keySize in 1..<64 {
                let key = Array(text.prefix(keySize))
                for valueSize in 0..<64 {
                    let value = Array(text.prefix(valueSize))
                    try store.put(key.span, value.span)
                    let readBack = try storeValue(store, key)
                    guard readBack == value else {
                        Issue.record("key of \(keySize) bytes, value of \(valueSize) bytes read back as \(readBack)")
                        return
                    }
                }
            }
        }
        #expect(store.count == 63)
        #expect(flash.counters.eraseCalls > 0, "8064 puts of up to 143 bytes overflow 6 x 4096 several times")
        let expected = Dictionary(uniqueKeysWithValues: (1..<64).map { (Array(text.prefix($0)), Array(text.prefix(63))) })
        #expect(try storeContents(try geometry.openStore(on: flash)) == expected)
    }
}

// MARK: - key_value_store_fuzz_test (spec 5.13)

@Suite("Fuzz (reference key_value_store_fuzz_test)")
struct StoreFuzzTests {
    static let configurations = [
        StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: 1, magic: 0x749c_361e),
        StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: 64, magic: 0x749c_361e),
    ]
    static let smallKeys = ["TestKey1", "Key2", "TestKey3"]
    static let largest = 3 * 1024

    /// Puts, deletes and re-puts large and small values; re-initializes the
    /// same store object after every round and checks every value.
    @Test(arguments: configurations)
    func fuzz(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        let buffer1 = [UInt8](repeating: 1, count: Self.largest)
        let buffer2 = [UInt8](repeating: 2, count: Self.largest)
        try store.put("Buf1", buffer1)
        try store.put("Buf2", buffer2)
        for (index, key) in Self.smallKeys.enumerated() { try store.put(key, value: index) }

        for round in 0..<100 {
            let size1 = Self.largest / (round + 1)
            let size2 = Self.largest / (100 - round)
            for value in 0..<50 { try store.put("some_data", value: value) }
            try store.delete("Buf1")
            try store.put("Buf1", Array(buffer1.prefix(size1)))
            try store.delete("Buf2")
            try store.put("Buf2", Array(buffer2.prefix(size2)))
            for (index, key) in Self.smallKeys.enumerated() {
                try store.delete(key)
                try store.put(key, value: index)
            }

            try store.initialize()
            #expect(try storeValue(store, "Buf1") == Array(buffer1.prefix(size1)))
            #expect(try storeValue(store, "Buf2") == Array(buffer2.prefix(size2)))
            for (index, key) in Self.smallKeys.enumerated() { #expect(try store.get(key, as: Int.self) == index) }
            #expect(try store.get("some_data", as: Int.self) == 49)
            #expect(store.count == 6)
        }
    }

    /// As ``fuzz(geometry:)`` with heavy maintenance every round and 1024
    /// put/get/delete cycles of fresh keys, which only fit because a full
    /// key table triggers heavy maintenance that drops deleted keys.
    @Test(arguments: configurations)
    func fuzzWithGarbageCollection(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        let buffer1 = [UInt8](repeating: 1, count: Self.largest)
        let buffer2 = [UInt8](repeating: 2, count: Self.largest)
        try store.put("Buf1", buffer1)
        try store.put("Buf2", buffer2)
        for (index, key) in Self.smallKeys.enumerated() { try store.put(key, value: index) }

        for round in 0..<100 {
            let size1 = Self.largest / (round + 1)
            let size2 = Self.largest / (100 - round)
            for value in 0..<50 { try store.put("some_data", value: value) }
            try store.delete("Buf1")
            try store.put("Buf1", Array(buffer1.prefix(size1)))
            try store.delete("Buf2")

            try store.heavyMaintenance()
            let stats = store.storageStats
            #expect(stats.sectorEraseCount > 1)
            #expect(stats.reclaimableBytes == 0)

            for index in 0..<(256 * 4) {
                let key = "\(index)"
                try store.put(key, value: index)
                #expect(try store.get(key, as: Int.self) == index)
                try store.delete(key)
                #expect(throws: KVSError.notFound) { try store.get(key, as: Int.self) }
            }
            try #require(store.count == 2 + Self.smallKeys.count)

            try store.put("Buf2", Array(buffer2.prefix(size2)))
            for (index, key) in Self.smallKeys.enumerated() {
                try store.delete(key)
                try store.put(key, value: index)
            }
            try store.heavyMaintenance()
            try #require(store.count == 3 + Self.smallKeys.count)

            try store.initialize()
            #expect(try storeValue(store, "Buf1") == Array(buffer1.prefix(size1)))
            #expect(try storeValue(store, "Buf2") == Array(buffer2.prefix(size2)))
            for (index, key) in Self.smallKeys.enumerated() { #expect(try store.get(key, as: Int.self) == index) }
        }
    }
}

// MARK: - Bad input

@Suite("Bad input is a documented error, never a trap")
struct StoreBadInputTests {
    static let configurations = [
        StoreGeometry(sectorSize: 4096, sectorCount: 6, flashAlignment: 16),
        StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 1, checksummed: false),
        StoreGeometry(sectorSize: 1024, sectorCount: 4, flashAlignment: 64, redundancy: 2),
    ]

    @Test(arguments: configurations)
    func emptyKeyIsInvalid(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        let empty: [UInt8] = []
        #expect(throws: KVSError.invalidArgument) { try store.put(empty.span, [1].span) }
        #expect(throws: KVSError.invalidArgument) { try store.put("", [1]) }
        #expect(throws: KVSError.invalidArgument) { try store.delete("") }
        #expect(throws: KVSError.invalidArgument) { try store.valueSize("") }
        #expect(throws: KVSError.invalidArgument) { try store.get("", as: UInt8.self) }
        #expect(storeRead(store, empty, bufferSize: 4).error == .invalidArgument)
        #expect(flash.counters.writeCalls == 0)
    }

    @Test(arguments: configurations)
    func keyOf64BytesIsInvalidAnd63BytesIsFine(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        let long = [UInt8](repeating: UInt8(ascii: "k"), count: 64)
        let longest = Array(long.prefix(63))
        #expect(throws: KVSError.invalidArgument) { try store.put(long.span, [1].span) }
        #expect(throws: KVSError.invalidArgument) { try store.delete(long.span) }
        #expect(throws: KVSError.invalidArgument) { try store.valueSize(long.span) }
        #expect(storeRead(store, long, bufferSize: 4).error == .invalidArgument)
        try store.put(longest.span, [1, 2].span)
        #expect(try storeValue(store, longest) == [1, 2])
        #expect(storeRead(store, long, bufferSize: 4).error == .invalidArgument, "not found by its 63-byte prefix")
    }

    @Test(arguments: configurations)
    func valueLargerThanASectorIsInvalid(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        // Key "k": 16 + 1 + value must fit the sector after padding (spec 1.4).
        let largest = geometry.sectorSize - 17
        #expect(throws: KVSError.invalidArgument) { try store.put("k", [UInt8](repeating: 7, count: largest + 1)) }
        #expect(throws: KVSError.invalidArgument) {
            try store.put("k", [UInt8](repeating: 7, count: geometry.sectorSize * 2))
        }
        #expect(flash.counters.writeCalls == 0)
        try store.put("k", [UInt8](repeating: 7, count: largest))
        #expect(try storeValue(store, "k") == [UInt8](repeating: 7, count: largest))
    }

    @Test(arguments: configurations)
    func useBeforeInitializeFailsWithFailedPrecondition(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.makeStore(on: flash)
        #expect(store.state == .notInitialized)
        #expect(throws: KVSError.failedPrecondition) { try store.put("k", [1]) }
        #expect(throws: KVSError.failedPrecondition) { try store.put("k", value: UInt32(1)) }
        #expect(throws: KVSError.failedPrecondition) { try store.delete("k") }
        #expect(throws: KVSError.failedPrecondition) { try store.valueSize("k") }
        #expect(throws: KVSError.failedPrecondition) { try store.get("k", as: UInt32.self) }
        #expect(storeRead(store, "k", bufferSize: 4).error == .failedPrecondition)
        #expect(throws: KVSError.failedPrecondition) { try store.partialMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try store.fullMaintenance() }
        #expect(throws: KVSError.failedPrecondition) { try store.heavyMaintenance() }
        #expect(storeItemCount(store) == 0)
        // A bad key is reported before the state (spec 3.9).
        #expect(throws: KVSError.invalidArgument) { try store.put("", [1]) }
        #expect(flash.counters == RAMFlash.Counters(), "nothing touched the flash")
    }

    @Test(arguments: configurations)
    func fullKeyTableRefusesNewKeysWithResourceExhausted(geometry: StoreGeometry) throws {
        var small = geometry
        small.capacity = 3
        let store = try small.openStore(on: small.makeFlash())
        try store.put("a", [1])
        try store.put("b", [2])
        try store.put("c", [3])
        #expect(throws: KVSError.resourceExhausted) { try store.put("d", [4]) }
        try store.put("a", [5])  // existing keys still update
        #expect(try storeContents(store) == [[UInt8(ascii: "a")]: [5], [UInt8(ascii: "b")]: [2], [UInt8(ascii: "c")]: [3]])
    }

    @Test(arguments: configurations)
    func fullKeyTableWithDeletedKeysMakesRoomByHeavyMaintenance(geometry: StoreGeometry) throws {
        var small = geometry
        small.capacity = 3
        let flash = small.makeFlash()
        let store = try small.openStore(on: flash)
        try store.put("a", [1])
        try store.put("b", [2])
        try store.put("c", [3])
        try store.delete("b")
        try store.put("d", [4])  // spec 4.5.1: heavy maintenance drops "b"
        #expect(store.totalEntriesWithDeleted == 3)
        #expect(try storeContents(store) == [[UInt8(ascii: "a")]: [1], [UInt8(ascii: "c")]: [3], [UInt8(ascii: "d")]: [4]])
        #expect(try storeContents(try small.openStore(on: flash)) == (try storeContents(store)))
    }

    @Test func fullKeyTableWithGarbageCollectionDisabledKeepsDeletedKeys() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16, capacity: 2, options: .gcDisabled)
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("a", [1])
        try store.put("b", [2])
        try store.delete("b")
        #expect(throws: KVSError.resourceExhausted) { try store.put("c", [3]) }
        try store.put("b", [4])  // the deleted key's slot is still its own
        #expect(store.count == 2)
    }

    @Test func fullFlashWithGarbageCollectionDisabledFailsWithResourceExhausted() throws {
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 3, flashAlignment: 16, options: .gcDisabled)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        // 3 sectors, one kept erased: room for 2 x 16 entries of 32 bytes.
        var stored = 0
        var lastError: KVSError? = nil
        for index in 0..<40 {
            do {
                try store.put("k", [UInt8(index)])
                stored += 1
            } catch {
                lastError = error
                break
            }
        }
        #expect(lastError == .resourceExhausted)
        #expect(stored == 32)
        #expect(flash.counters.eraseCalls == 0)
        #expect(try storeValue(store, "k") == [31])
    }

    @Test func oneSectorFlashCannotBeInitialized() throws {
        let geometry = StoreGeometry(sectorSize: 4096, sectorCount: 1, flashAlignment: 16)
        let store = try geometry.makeStore(on: geometry.makeFlash())
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(throws: KVSError.failedPrecondition) { try store.put("k", [1]) }
        #expect(storeRead(store, "k", bufferSize: 1).error == .failedPrecondition)
    }

    @Test(arguments: [(flashAlignment: 8, partitionAlignment: 24), (flashAlignment: 16, partitionAlignment: 512),
                      (flashAlignment: 1, partitionAlignment: 48), (flashAlignment: 4, partitionAlignment: 12)])
    func partitionAlignmentTheEntryFormatCannotExpressIsRejected(flashAlignment: Int, partitionAlignment: Int) throws {
        let flash = RAMFlash(sectorSize: 4096, sectorCount: 4, alignment: flashAlignment)
        let partition = try FlashPartition(flash, alignment: partitionAlignment)
        #expect(partition.alignment == partitionAlignment)
        #expect(throws: KVSError.invalidArgument) {
            _ = try KeyValueStore(partition: partition, format: EntryFormat(magic: 1, checksum: .crc16), capacity: 16)
        }
    }

    @Test func sectorSizeThatIsNotAMultipleOfTheAlignmentIsRejected() throws {
        let flash = RAMFlash(sectorSize: 100, sectorCount: 4, alignment: 1)
        let partition = try FlashPartition(flash, alignment: 32)
        #expect(throws: KVSError.invalidArgument) {
            _ = try KeyValueStore(partition: partition, format: EntryFormat(magic: 1, checksum: .crc16), capacity: 16)
        }
    }

    @Test(arguments: [0, -1, 32768])
    func capacityOutside1To32767IsRejected(capacity: Int) throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4, alignment: 16)
        let partition = try FlashPartition(flash)
        #expect(throws: KVSError.invalidArgument) {
            _ = try KeyValueStore(partition: partition, format: EntryFormat(magic: 1, checksum: .crc16), capacity: capacity)
        }
    }

    @Test func otherOutOfRangeConfigurationsAreRejected() throws {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4, alignment: 16)
        let partition = try FlashPartition(flash)
        let format = EntryFormat(magic: 1, checksum: .crc16)
        #expect(throws: KVSError.invalidArgument) { _ = try KeyValueStore(partition: partition, formats: [], capacity: 8) }
        #expect(throws: KVSError.invalidArgument) { _ = try KeyValueStore(partition: partition, format: format, capacity: 8, redundancy: 0) }
        #expect(throws: KVSError.invalidArgument) { _ = try KeyValueStore(partition: partition, format: format, capacity: 8, maxSectors: 0) }
        let store = try KeyValueStore(partition: partition, format: format, capacity: 1)
        try store.initialize()
        try store.put("only", [1])
        #expect(throws: KVSError.resourceExhausted) { try store.put("second", [2]) }
    }

    @Test(arguments: configurations)
    func hashCollisionIsReportedNotOverwritten(geometry: StoreGeometry) throws {
        let store = try geometry.openStore(on: geometry.makeFlash())
        try store.put("dFU6S", [1])
        #expect(throws: KVSError.alreadyExists) { try store.put("D4", [2]) }
        #expect(throws: KVSError.notFound) { try store.delete("D4") }
        #expect(try storeValue(store, "dFU6S") == [1])
    }

    @Test(arguments: [3, 4, 6])
    func redundancyWithoutASpareSectorIsRefusedAtInitialization(redundancy: Int) throws {
        // Every copy needs its own sector and one sector stays erased (spec
        // 1.7): pw_kvs accepts such a store and refuses every put with
        // RESOURCE_EXHAUSTED; FlashKVS says so at initialize().
        let geometry = StoreGeometry(sectorSize: 512, sectorCount: 3, flashAlignment: 16, redundancy: redundancy)
        let flash = geometry.makeFlash()
        let store = try geometry.makeStore(on: flash)
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(store.state == .notInitialized)
        #expect(throws: KVSError.failedPrecondition) { try store.put("k", [1]) }
        #expect(flash.counters.writeCalls == 0 && flash.counters.readCalls == 0)
        let spare = StoreGeometry(sectorSize: 512, sectorCount: redundancy + 1, flashAlignment: 16, redundancy: redundancy)
        let accepted = try spare.openStore(on: spare.makeFlash())
        try accepted.put("k", [1])
        #expect(try accepted.get("k") == [1])
    }

    @Test func largestSectorSizeWorks() throws {
        // 65534 bytes: the largest sector with 16-bit counts in the sector table (spec 1.7).
        let geometry = StoreGeometry(sectorSize: 65534, sectorCount: 4, flashAlignment: 1)
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        let largest = (65534 / 16 * 16) - 16 - 3  // entries are padded to 16 bytes
        let value = (0..<largest).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        #expect(throws: KVSError.invalidArgument) { try store.put("big", value + [0]) }
        try store.put("big", value)
        try store.put("small", [1, 2, 3])
        try store.put("big", Array(value.reversed()))
        #expect(try storeValue(store, "big") == Array(value.reversed()))
        let reopened = try geometry.openStore(on: flash)
        #expect(try storeContents(reopened) == [bytes("big"): Array(value.reversed()), bytes("small"): [1, 2, 3]])
        #expect(reopened.storageStats.inUseBytes == 65520 + 32)
        #expect(reopened.storageStats.reclaimableBytes == 65520, "the first version of \"big\" is stale")
    }

    @Test func degenerateFlashGeometryIsClampedNotTrapped() throws {
        let flash = RAMFlash(sectorSize: 0, sectorCount: -2, alignment: 0)
        #expect(flash.sectorSize >= 1)
        #expect(flash.alignment >= 1)
        #expect(flash.sectorCount == 0)
        #expect(flash.eraseCounts.isEmpty)
        let partition = try FlashPartition(flash)
        #expect(throws: KVSError.invalidArgument) {
            _ = try KeyValueStore(partition: partition, format: EntryFormat(magic: 1, checksum: .crc16), capacity: 4)
        }
        let store = try KeyValueStore(
            partition: partition, format: EntryFormat(magic: 1, checksum: .crc16), capacity: 4, maxSectors: 4)
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
    }

    @Test(arguments: configurations)
    func keysWithBytesAbove0x7FAreOrdinaryKeys(geometry: StoreGeometry) throws {
        let flash = geometry.makeFlash()
        let store = try geometry.openStore(on: flash)
        let key: [UInt8] = Array("été".utf8) + [0x00, 0xFF, 0x80]
        try store.put(key.span, [1, 2, 3].span)
        #expect(try storeValue(store, key) == [1, 2, 3])
        #expect(try storeContents(try geometry.openStore(on: flash)) == [key: [1, 2, 3]])
    }
}
