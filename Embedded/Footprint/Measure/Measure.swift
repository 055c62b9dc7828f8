// Footprint measurements on the device (QEMU mps2-an386, Cortex-M4):
// - RAM: bytes allocated while a store is constructed, per configuration;
// - stack: deepest stack use of initialize(), put, get and delete, by stack
//   painting, over a workload that runs garbage collection, heavy
//   maintenance (a full key table) and recovery (a corrupt entry).
// Prints one `key=value` line per figure for Scripts/embedded-footprint.sh.
import FlashKVS

@main
struct Measure {
    static func main() {
        measureRAM(capacity: 64, sectors: 8, redundancy: 2)
        measureRAM(capacity: 50, sectors: 8, redundancy: 2)
        measureRAM(capacity: 64, sectors: 8, redundancy: 1)
        measureRAM(capacity: 16, sectors: 4, redundancy: 1)
        measureStackDepths()
    }

    /// Allocations of `KeyValueStore.init` (and of `initialize()`, which
    /// must be none) for one configuration.
    static func measureRAM(capacity: Int, sectors: Int, redundancy: Int) {
        let flash = MappedFlash.device(sectorSize: 4096, sectorCount: sectors)
        flash.eraseAll()
        let before = HeapSnapshot.now
        kvs_heap_log_start()
        let store: KeyValueStore<MappedFlash>
        do throws(KVSError) {
            store = try KeyValueStore(partition: FlashPartition(flash), format: testFormat, capacity: capacity,
                                      redundancy: redundancy)
        } catch {
            fail("KeyValueStore.init threw \(error.rawValue)")
        }
        let construction = HeapSnapshot.now.since(before)
        let beforeInitialize = HeapSnapshot.now
        do throws(KVSError) {
            try store.initialize()
        } catch {
            fail("initialize() threw \(error.rawValue)")
        }
        let initialize = HeapSnapshot.now.since(beforeInitialize)
        var sizes = ""
        for index in 0..<construction.allocations {
            if index > 0 { sizes += "+" }
            sizes += "\(kvs_heap_log_size(UInt32(index)))"
        }
        let label = "ram.\(capacity)x\(sectors)xR\(redundancy)"
        print("\(label).requested=\(construction.requestedBytes)")
        print("\(label).allocations=\(construction.allocations)")
        print("\(label).heap=\(construction.inUse)")
        print("\(label).sizes=\(sizes)")
        print("\(label).initialize_allocations=\(initialize.allocations)")
        withExtendedLifetime(store) {}
    }

    /// Deepest stack use per operation for 64 keys, 8 sectors of 4 KiB,
    /// redundancy 2.
    static func measureStackDepths() {
        let flash = MappedFlash.device(sectorSize: 4096, sectorCount: 8)
        flash.eraseAll()
        var deepest = (initialize: 0, put: 0, get: 0, delete: 0)
        var versions = InlineArray<64, Int>(repeating: 0)

        var store = open(flash)
        deepest.initialize = max(deepest.initialize, depth { () throws(KVSError) in try store.initialize() })

        /// Puts version `version` of `key`, recording the stack depth.
        func put(_ key: Int, _ version: Int) {
            let used = depthOfCall { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in
                    try withTestValue(key: key, version: version) { value throws(KVSError) in
                        try measureStack { () throws(KVSError) in try store.put(name, value) }
                    }
                }
            }
            deepest.put = max(deepest.put, used)
            versions[key] = version
        }

        /// Deletes `key`, recording the stack depth.
        func delete(_ key: Int) {
            let used = depthOfCall { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in
                    try measureStack { () throws(KVSError) in try store.delete(name) }
                }
            }
            deepest.delete = max(deepest.delete, used)
            versions[key] = 0
        }

        // New keys, then overwrites until garbage collection ran many times.
        for key in 0..<56 { put(key, 1) }
        for round in 0..<1500 { put(round * 7 % 56, round + 2) }
        check(store.storageStats.sectorEraseCount >= 8, "garbage collection ran")

        for key in 0..<56 {
            let used = depthOfCall { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in
                    var bytes = InlineArray<64, UInt8>(repeating: 0)
                    var buffer = bytes.mutableSpan
                    return try measureStack { () throws(KVSError) in _ = try store.get(name, into: &buffer) }
                }
            }
            deepest.get = max(deepest.get, used)
        }
        for key in 48..<56 { delete(key) }
        // A full key table (deleted keys included): a new key runs heavy maintenance.
        for key in 56..<64 { put(key, 1) }
        for key in 56..<64 { delete(key) }
        put(40, 9999)

        // Re-initialize over the written flash, then over a corrupt entry.
        store = open(flash)
        deepest.initialize = max(deepest.initialize, depth { () throws(KVSError) in try store.initialize() })
        var corrupted = false
        for sector in 0..<8 where !corrupted && flash.base[sector * 4096] != 0xFF {
            flash.base[sector * 4096 + EntryHeader.size + 9] ^= 0x01  // a value byte of the first entry
            corrupted = true
        }
        check(corrupted, "found an entry to corrupt")
        store = open(flash)
        deepest.initialize = max(deepest.initialize, depth { () throws(KVSError) in try store.initialize() })
        check(store.storageStats.corruptSectorsRecovered > 0, "initialize() repaired the corrupt sector")
        for key in 0..<64 where versions[key] > 0 {
            check(try store.storedTestVersion(key: key, candidates: versions[key]...versions[key]) == versions[key],
                  "key \(key) reads back")
        }
        print("stack.initialize=\(deepest.initialize)")
        print("stack.put=\(deepest.put)")
        print("stack.get=\(deepest.get)")
        print("stack.delete=\(deepest.delete)")
    }

    static func open(_ flash: MappedFlash) -> KeyValueStore<MappedFlash> {
        do throws(KVSError) {
            return try KeyValueStore(partition: FlashPartition(flash), format: testFormat, capacity: 64,
                                     redundancy: 2)
        } catch {
            fail("KeyValueStore.init threw \(error.rawValue)")
        }
    }

    /// The stack depth of `body`; an error fails the program.
    static func depth(_ body: () throws(KVSError) -> Void) -> Int {
        depthOfCall { () throws(KVSError) in try measureStack(body) }
    }

    /// Runs `body`, which measures a depth; an error fails the program.
    static func depthOfCall(_ body: () throws(KVSError) -> Int) -> Int {
        do throws(KVSError) {
            return try body()
        } catch {
            fail("operation threw \(error.rawValue)")
        }
    }

    static func check(_ condition: @autoclosure () throws(KVSError) -> Bool, _ message: @autoclosure () -> String) {
        do throws(KVSError) {
            if try condition() { return }
        } catch {
            fail("\(message()): threw \(error.rawValue)")
        }
        fail(message())
    }
}
