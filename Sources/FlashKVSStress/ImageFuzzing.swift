#if canImport(FlashKVS)
import FlashKVS  // absent when Scripts/fuzz.sh compiles the core and this file as one module
#endif

/// Opens arbitrary bytes as a flash image and works the store over it: the
/// body of the libFuzzer target (`Fuzz/`) and of the corpus replay test.
///
/// The first byte picks a geometry and configuration; the rest is the
/// image (shorter input is padded with erased bytes). Whatever the bytes,
/// nothing may trap or loop without bound; every error is a `KVSError`.
public enum ImageFuzzing {
    /// A geometry and store configuration to fuzz.
    struct Configuration {
        var sectorSize: Int
        var sectorCount: Int
        var alignment: Int
        var redundancy: Int
        var checksum: Checksum
        var recovery: Options.Recovery
        var capacity: Int
    }

    static let configurations: [Configuration] = [
        Configuration(sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 1, checksum: .crc16, recovery: .lazy, capacity: 16),
        Configuration(sectorSize: 256, sectorCount: 6, alignment: 16, redundancy: 2, checksum: .crc16, recovery: .lazy, capacity: 8),
        Configuration(sectorSize: 512, sectorCount: 4, alignment: 64, redundancy: 1, checksum: .none, recovery: .manual, capacity: 4),
        Configuration(sectorSize: 128, sectorCount: 8, alignment: 32, redundancy: 3, checksum: .crc16, recovery: .lazy, capacity: 32),
    ]

    /// The magic the fuzzed store uses; a fuzzer finds it in the corpus.
    public static let magic: UInt32 = 0x5ab2_f0b5

    /// Inputs holding real images written by the store, one or more per
    /// configuration: seeds that let a fuzzer start from valid entries.
    public static func seedInputs() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for (index, configuration) in configurations.enumerated() {
            let flash = RAMFlash(sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount,
                                 alignment: configuration.alignment)
            guard let partition = try? FlashPartition(flash),
                  let store = try? KeyValueStore(
                      partition: partition, format: EntryFormat(magic: magic, checksum: configuration.checksum),
                      capacity: configuration.capacity, redundancy: configuration.redundancy)
            else { continue }
            try? store.initialize()
            for round in 0..<12 {
                try? store.put("key\(round % 5)", [UInt8](repeating: UInt8(round), count: 3 + round * 2))
                if round == 6 { try? store.delete("key1") }
                if round % 4 == 3 { seeds.append([UInt8(index)] + flash.contents) }
            }
        }
        return seeds
    }

    /// Runs initialize, iteration, reads, writes and maintenance over
    /// `data`. Returns the number of operations that succeeded.
    @discardableResult
    public static func exercise(_ data: [UInt8]) -> Int {
        guard let selector = data.first else { return 0 }
        let configuration = configurations[Int(selector) % configurations.count]
        let flash = RAMFlash(sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount,
                             alignment: configuration.alignment)
        let image = Array(data.dropFirst().prefix(flash.size))
        flash.load(image.span)
        let formats = [EntryFormat(magic: magic, checksum: configuration.checksum),
                       EntryFormat(magic: 0xd253_a8a9, checksum: .crc16)]
        func open() -> KeyValueStore<RAMFlash>? {
            guard let partition = try? FlashPartition(flash) else { return nil }
            return try? KeyValueStore(partition: partition, formats: formats, capacity: configuration.capacity,
                                      redundancy: configuration.redundancy,
                                      options: Options(recovery: configuration.recovery))
        }
        guard let store = open() else { return 0 }
        var succeeded = 0
        func attempt(_ body: () throws(KVSError) -> Void) {
            do { try body(); succeeded += 1 } catch {}
        }
        attempt { () throws(KVSError) in try store.initialize() }
        var buffer = [UInt8](repeating: 0, count: configuration.sectorSize)
        for item in store.items {
            var span = buffer.mutableSpan
            attempt { () throws(KVSError) in _ = try store.get(item, into: &span) }
            attempt { () throws(KVSError) in _ = try store.valueSize(of: item) }
            var key = [UInt8](repeating: 0, count: 63)
            var keySpan = key.mutableSpan
            attempt { () throws(KVSError) in _ = try store.key(of: item, into: &keySpan) }
        }
        for key in ["key1", "k2", "a", "KKKKKKKKKKKKKKKK"] {
            var span = buffer.mutableSpan
            attempt { () throws(KVSError) in _ = try store.get(key, into: &span, offset: 1) }
        }
        attempt { () throws(KVSError) in try store.put("fuzz", [1, 2, 3]) }
        attempt { () throws(KVSError) in try store.put("key1", [UInt8](repeating: 7, count: 40)) }
        attempt { () throws(KVSError) in try store.delete("k2") }
        attempt { () throws(KVSError) in try store.partialMaintenance() }
        attempt { () throws(KVSError) in try store.fullMaintenance() }
        attempt { () throws(KVSError) in try store.heavyMaintenance() }
        attempt { () throws(KVSError) in try store.put("after", [9]) }
        if let reopened = open() {
            attempt { () throws(KVSError) in try reopened.initialize() }
            attempt { () throws(KVSError) in let _: [UInt8] = try reopened.get("fuzz") }
            _ = reopened.storageStats
        }
        return succeeded
    }
}
