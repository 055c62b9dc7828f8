import Foundation
import Testing
import FlashKVS
import TestSupport

/// The images in `../shared/compat/`, written by the reference C++ pw_kvs:
/// FlashKVS reads exactly their contents, and applying their scripts to an
/// erased flash reproduces them byte for byte.
@Suite("Reference images (compat)")
struct VectorCompatTests {
    static let names: [String] = {
        let directory = SharedData.url("compat")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    /// The configuration of a compat image, from its `flags`.
    struct Configuration {
        var sectorSize = 4096, sectors = 0, alignment = 16, redundancy = 1, maxEntries = 256
        var magic: UInt32 = 0xd253_a8a9
        var checksum = Checksum.crc16

        init(flags: [String]) {
            var index = 0
            while index + 1 < flags.count {
                let value = flags[index + 1]
                switch flags[index] {
                case "--sector-size": sectorSize = Int(value)!
                case "--sectors": sectors = Int(value)!
                case "--alignment": alignment = Int(value)!
                case "--redundancy": redundancy = Int(value)!
                case "--max-entries": maxEntries = Int(value)!
                case "--magic": magic = UInt32(parseInteger(value))
                case "--checksum": checksum = value == "none" ? .none : .crc16
                default: break
                }
                index += 2
            }
        }

        func store(on flash: RAMFlash) throws -> KeyValueStore<RAMFlash> {
            try KeyValueStore(partition: FlashPartition(flash), format: EntryFormat(magic: magic, checksum: checksum),
                              capacity: maxEntries, redundancy: redundancy)
        }
    }

    static func load(_ name: String) throws -> (json: [String: Any], configuration: Configuration) {
        let data = try Data(contentsOf: SharedData.url("compat/\(name).json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (json, Configuration(flags: json["flags"] as! [String]))
    }

    @Test("reference image reads exactly its expected contents",
          .enabled(if: SharedData.isAvailable, SharedData.skipReason), arguments: names)
    func readsReferenceImage(name: String) throws {
        let (json, configuration) = try Self.load(name)
        let image = [UInt8](try Data(contentsOf: SharedData.url("compat/\(json["image"] as! String)")))
        let flash = RAMFlash(sectorSize: configuration.sectorSize, sectorCount: image.count / configuration.sectorSize,
                             alignment: configuration.alignment)
        flash.load(image.span)
        let store = try configuration.store(on: flash)
        try store.initialize()
        let expected = json["expected"] as! [String: String]
        let listed = store.items.map { keyString($0.key) }
        #expect(listed == json["list_order"] as! [String])
        for (key, valueHex) in expected {
            let value = try store.value(Array(key.utf8).span)
            #expect(value.hex == valueHex, "\(key)")
        }
        #expect(store.count == expected.count)
        #expect(Int(store.transactionCount) == json["transaction_count"] as! Int)
        let stats = (json["stats_after_reopen"] as! [String: Any])["storage_stats"] as! [String: Int]
        #expect(store.storageStats.writableBytes == stats["writable_bytes"])
        #expect(store.storageStats.inUseBytes == stats["in_use_bytes"])
        #expect(store.storageStats.reclaimableBytes == stats["reclaimable_bytes"])
        #expect(flash.contents == image, "reading must not change a byte")
    }

    @Test("applying the script to erased flash reproduces the reference image",
          .enabled(if: SharedData.isAvailable, SharedData.skipReason), arguments: names)
    func scriptReproducesImage(name: String) throws {
        let (json, configuration) = try Self.load(name)
        let flash = RAMFlash(sectorSize: configuration.sectorSize, sectorCount: configuration.sectors,
                             alignment: configuration.alignment)
        var store = try configuration.store(on: flash)
        try store.initialize()
        let script = try String(contentsOf: SharedData.url("compat/\(json["script"] as! String)"), encoding: .utf8)
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard let command = words.first, !command.isEmpty, !command.hasPrefix("#") else { continue }
            switch command {
            case "put": try store.put(Array(words[1].utf8).span, Array((words.count > 2 ? words[2] : "").utf8).span)
            case "puthex": try store.put(Array(words[1].utf8).span, [UInt8](hex: words[2]).span)
            case "delete": try store.delete(Array(words[1].utf8).span)
            case "maintain" where words[1] == "partial": try store.partialMaintenance()
            case "maintain" where words[1] == "full": try store.fullMaintenance()
            case "maintain": try store.heavyMaintenance()
            case "reinit":
                store = try configuration.store(on: flash)
                try store.initialize()
            default: Issue.record("unknown script line: \(line)")
            }
        }
        #expect(SHA256.hex(flash.contents) == json["image_sha256"] as! String)
    }

    @Test("SHA-256 of \"abc\" is the FIPS 180-4 example")
    func sha256KnownAnswer() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
