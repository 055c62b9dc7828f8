import Foundation
import Testing
import FlashKVS

/// The `image` vectors (spec 6.5): flash images from the reference's
/// binary-format tests, opened with their configuration. This suite checks
/// their structured expectations (init status, reads, size, statistics,
/// follow-up puts); the prose scenarios of each image are replayed
/// step by step by its golden trace (`golden_trace`, VectorTraceTests).
@Suite("Image vectors")
struct VectorImageTests {
    /// Images whose expectations this suite interprets.
    static let names = SharedData.vectorNames(kind: "image").filter {
        $0.hasPrefix("bf_manual_") || $0.hasPrefix("bf_lazy_") || $0 == "bf_InitializedRedundantMultiMagicKvs"
            || $0 == "bf_InitializedMultiMagicKvs"
    }.filter { !$0.contains("DISABLED") }

    struct Fixture {
        let flash: RAMFlash
        let store: KeyValueStore<RAMFlash>
    }

    static func fixture(_ vector: [String: Any], mutations: Bool = true) throws -> Fixture {
        let config = vector["config"] as! [String: Any]
        let flash = RAMFlash(sectorSize: config["sector_size"] as! Int, sectorCount: config["sector_count"] as! Int,
                             alignment: config["flash_alignment"] as! Int)
        flash.load([UInt8](hex: vector["image_hex"] as! String).span)
        if mutations {
            for mutation in vector["mutations"] as? [[String: Any]] ?? [] {
                flash[mutation["offset"] as! Int] = UInt8(parseInteger(mutation["byte"] as! String))
            }
        }
        var storeConfig = config
        storeConfig["sector_count"] = config["max_sectors"] ?? config["sector_count"]
        return Fixture(flash: flash, store: try TraceReplayer.makeStore(config: storeConfig, flash: flash))
    }

    /// Checks `expected["get"]` entries such as "OK value1", "NOT_FOUND",
    /// `OK "version 7" (9 bytes)` or a bare value.
    static func checkReads(_ store: KeyValueStore<RAMFlash>, _ reads: [String: String]) {
        for (key, expectation) in reads {
            let (error, value) = status { () throws(KVSError) in try store.value(keyBytes(key).span) }
            let words = expectation.split(separator: " ", maxSplits: 1).map(String.init)
            if KVSError(statusName: words[0]) != nil || words[0] == "OK" {
                #expect(statusName(error) == words[0], "get \(key)")
                if words[0] == "OK", words.count > 1, let value {
                    let text = words[1].split(separator: "\"").first.map(String.init) ?? words[1]
                    #expect(String(decoding: value, as: UTF8.self) == text, "get \(key)")
                }
            } else {
                #expect(error == nil && value.map { String(decoding: $0, as: UTF8.self) } == expectation, "get \(key)")
            }
        }
    }

    static func checkStats(_ store: KeyValueStore<RAMFlash>, _ wanted: [String: Any]?) {
        guard let wanted else { return }
        let stats = store.storageStats
        let actual: [String: Int] = [
            "in_use_bytes": stats.inUseBytes, "reclaimable_bytes": stats.reclaimableBytes,
            "writable_bytes": stats.writableBytes, "corrupt_sectors_recovered": stats.corruptSectorsRecovered,
            "missing_redundant_entries_recovered": stats.missingRedundantEntriesRecovered,
        ]
        for (name, value) in wanted {
            guard let number = value as? Int else { continue }  // e.g. "i+1 (cumulative)": checked below
            #expect(actual[name] == number, "\(name)")
        }
    }

    @Test("image opens with the recorded status, reads and statistics",
          .enabled(if: SharedData.isAvailable, SharedData.skipReason), arguments: names)
    func image(name: String) throws {
        let vector = try #require(SharedData.vector(named: name))
        let expected = vector["expected"] as! [String: Any]
        let fixture = try Self.fixture(vector)
        let store = fixture.store

        if expected["parametric"] != nil {
            // Byte i of kEntry1 += 1 for every i in 0..<32, re-initializing the same store object.
            let original = try Self.fixture(vector, mutations: false).flash.contents
            for index in 0..<32 {
                fixture.flash.load(original.span)
                fixture.flash[index] = original[index] &+ 1
                let error = status { () throws(KVSError) in try store.initialize() }.0
                #expect(statusName(error) == expected["init"] as! String, "byte \(index)")
                Self.checkReads(store, expected["get"] as! [String: String])
                Self.checkStats(store, expected["stats"] as? [String: Any])
                if (expected["stats"] as? [String: Any])?["corrupt_sectors_recovered"] is String {
                    #expect(store.storageStats.corruptSectorsRecovered == index + 1, "cumulative recoveries")
                }
            }
            return
        }

        let inject = expected["inject"] as? String ?? ""
        if inject.contains("as a read error before Init") {
            // Deliberately different: a read that keeps failing is the flash's
            // error, never corruption; pw_kvs reports DATA_LOSS (manual) or
            // erases the unreadable entry's sector (lazy).
            let before = fixture.flash.contents
            fixture.flash.inject(FlashFault(.read, error: .unauthenticated, range: (32, 1)))
            #expect(throws: KVSError.unauthenticated) { try store.initialize() }
            #expect(store.state == .notInitialized)
            #expect(fixture.flash.contents == before, "nothing written or erased")
            fixture.flash.removeAllFaults()
            try store.initialize()
            #expect(store.count == 2)
            return
        }
        let initError = status { () throws(KVSError) in try store.initialize() }.0
        let initWord = (expected["init"] as? String)?.split(separator: " ").first.map(String.init) ?? "OK"
        #expect(statusName(initError) == initWord)
        if let initialized = expected["initialized"] as? Bool { #expect(store.isInitialized == initialized) }
        if let size = expected["size"] as? Int { #expect(store.count == size) }
        if let reads = expected["get"] as? [String: String] { Self.checkReads(store, reads) }
        if expected["then"] == nil { Self.checkStats(store, expected["stats"] as? [String: Any]) }

        if let then = expected["then"] as? String {
            // Put("hello","world") and Put("a","b") -> STATUS; size N
            let wanted = then.contains("FAILED_PRECONDITION") ? "FAILED_PRECONDITION" : "OK"
            for (key, value) in [("hello", "world"), ("a", "b")] {
                let error = status { () throws(KVSError) in try store.put(key, Array(value.utf8)) }.0
                #expect(statusName(error) == wanted, "put \(key)")
            }
            let size = Int(then.split(separator: " ").last!)!
            #expect(store.count == size)
            Self.checkStats(store, expected["stats"] as? [String: Any])  // recorded after the puts
        }

        if inject.contains("as a write error after Init") {
            // Deliberately different: the failed program is retried once in
            // another sector (pw_kvs returns the error with the entry on
            // flash but not in its tables). The bytes end up as pw_kvs's
            // after its own retry by the caller.
            fixture.flash.inject(FlashFault(.write, error: .unavailable, times: 1))
            try store.put("key1", Array("value1".utf8))
            #expect(try store.get("key1") == Array("value1".utf8))
            #expect(store.errorDetected)
            Self.checkStats(store, expected["stats_after_retry"] as? [String: Any])
        }

        if name == "bf_InitializedRedundantMultiMagicKvs" {
            // New entries use the first format: the exact bytes land at offset 192.
            let newEntry = [UInt8](hex: try #require(SharedData.vector(named: "bf_PutNewEntry_UsesFirstFormat"))["entry_hex"] as! String)
            try store.put("new key", Array("abcd?".utf8))
            #expect(Array(fixture.flash.contents[192..<224]) == newEntry)
        }
    }

    /// entry_cache_test's image: keys found through the key table, with the
    /// reference's read-error semantics (spec 5.5).
    @Test("entry cache image: lookups, collisions and read errors",
          .enabled(if: SharedData.isAvailable, SharedData.skipReason))
    func entryCacheImage() throws {
        let vector = try #require(SharedData.vector(named: "entry_cache_initialized_image"))
        func open() throws -> (RAMFlash, KeyValueStore<RAMFlash>) {
            let flash = RAMFlash(sectorSize: 64, sectorCount: 128, alignment: 1)
            flash.load([UInt8](hex: vector["image_hex"] as! String).span)
            let store = try KeyValueStore(
                partition: FlashPartition(flash), format: EntryFormat(magic: 0xa14a_e726, checksum: .none),
                capacity: 32, redundancy: 3, options: Options(recovery: .manual))
            // Every key has fewer than 3 copies: needs maintenance, reads work.
            #expect(throws: KVSError.dataLoss) { try store.initialize() }
            return (flash, store)
        }
        var (flash, store) = try open()
        #expect(store.totalEntriesWithDeleted == 3)
        #expect(store.count == 2)  // "The Key" and "9FDC"; "delorted" is deleted
        #expect(try store.valueSize("The Key") == 0)
        #expect(throws: KVSError.notFound) { try store.valueSize("delorted") }
        #expect(throws: KVSError.notFound) { try store.valueSize("3.141") }
        #expect(throws: KVSError.notFound) { try store.valueSize("axzzK") }  // collision hidden on reads

        (flash, store) = try open()
        flash.inject(FlashFault(.read, error: .unknown, times: 2))
        #expect(try store.valueSize("The Key") == 0)  // first copy unreadable, second one used

        // Reads that keep failing are the flash's error, never corruption
        // (the reference answers DATA_LOSS and marks the copies' sectors).
        (flash, store) = try open()
        let writableBefore = store.storageStats.writableBytes
        flash.inject(FlashFault(.read, error: .unknown, times: 8))
        #expect(throws: KVSError.unknown) { try store.valueSize("The Key") }
        #expect(store.storageStats.writableBytes == writableBefore, "no sector marked corrupt")
    }
}
