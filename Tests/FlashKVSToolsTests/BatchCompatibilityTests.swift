import FlashKVS
import FlashKVSTools
import Foundation
import TestSupport
import Testing

/// Atomic batches stay pw_kvs-compatible (issue 22, Docs/BATCHES.md): an
/// image with committed batches reads the same in the inspector (the
/// reference's rules) and in a store that knows nothing of batches; plain
/// pw_kvs images read the same, byte for byte untouched, with batches on.
@Suite("Batch compatibility")
struct BatchCompatibilityTests {
    typealias Store = KeyValueStore<RAMFlash>

    struct Geometry: CustomTestStringConvertible, Sendable {
        var sectorSize: Int, sectorCount: Int, alignment: Int, redundancy: Int
        var testDescription: String { "\(sectorCount)x\(sectorSize) a\(alignment) r\(redundancy)" }
        var configuration: StoreConfiguration {
            StoreConfiguration(sectorSize: sectorSize, sectorCount: sectorCount, alignment: alignment,
                               redundancy: redundancy, maxEntries: 64)
        }
    }

    static let geometries = [
        Geometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 1),
        Geometry(sectorSize: 512, sectorCount: 8, alignment: 16, redundancy: 2),
        Geometry(sectorSize: 4096, sectorCount: 4, alignment: 64, redundancy: 1),
    ]

    static func store(_ flash: RAMFlash, _ geometry: Geometry, batches: Bool) throws -> Store {
        let store = try Store(partition: FlashPartition(flash),
                              format: EntryFormat(magic: StoreConfiguration.defaultMagic, checksum: .crc16),
                              capacity: 64, redundancy: geometry.redundancy)
        if batches { store.enableBatches() }
        return store
    }

    static func values(_ store: Store) throws -> [String: [UInt8]] {
        var shown: [String: [UInt8]] = [:]
        for item in store.items {
            let key = String(decoding: store.key(of: item), as: UTF8.self)
            shown[key] = try store.get(key)
        }
        return shown
    }

    /// The live values the inspector finds: each live key's newest entry,
    /// read from the flash at the address the inspection gives.
    static func inspectedValues(_ flash: RAMFlash, _ geometry: Geometry) throws -> [String: [UInt8]] {
        let inspection = try ImageInspector.inspect(flash, configuration: geometry.configuration)
        #expect(inspection.isClean, "\(inspection.problems)")
        var shown: [String: [UInt8]] = [:]
        for key in inspection.keys where !key.isDeleted {
            let entry = try #require(inspection.entry(at: key.addresses[0]))
            let header = try #require(entry.header)
            let start = entry.address + EntryHeader.size + Int(header.keyLength)
            shown[String(decoding: key.key, as: UTF8.self)] = Array(flash.contents[start..<(start + header.valueSize)])
        }
        // The reserved key is there, as a deleted key (the commit records).
        #expect(inspection.keys.contains { $0.key == [0x00, 0x6B, 0x76, 0x62] && $0.isDeleted })
        return shown
    }

    static func copy(_ flash: RAMFlash) -> RAMFlash {
        let clone = RAMFlash(sectorSize: flash.sectorSize, sectorCount: flash.sectorCount, alignment: flash.alignment)
        clone.load(flash.contents.span)
        return clone
    }

    @Test("committed batches read the same in the inspector and in a store without batches", arguments: geometries)
    func committedBatchesReadTheSame(_ geometry: Geometry) throws {
        let flash = RAMFlash(sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount,
                             alignment: geometry.alignment)
        let store = try Self.store(flash, geometry, batches: true)
        try store.initialize()
        var model: [String: [UInt8]] = [:]
        for round in 0..<12 {
            let single = "plain/\(round % 3)", value = [UInt8](repeating: UInt8(round), count: 1 + round * 3)
            try store.put(single, value)
            model[single] = value
            try store.commit { batch throws(KVSError) in
                try batch.put("wifi/ssid", Array("ssid-\(round)".utf8))
                try batch.put("wifi/pass", [UInt8](repeating: UInt8(round), count: 10 + round))
                if round % 4 == 3 { try batch.delete("plain/0") }
                try batch.put("cal/\(round % 5)", [UInt8(round), 1, 2, 3])
            }
            model["wifi/ssid"] = Array("ssid-\(round)".utf8)
            model["wifi/pass"] = [UInt8](repeating: UInt8(round), count: 10 + round)
            if round % 4 == 3 { model["plain/0"] = nil }
            model["cal/\(round % 5)"] = [UInt8(round), 1, 2, 3]
        }
        #expect(try Self.values(store) == model)
        let image = flash.contents

        // A store that knows nothing of batches: the same values, nothing written.
        let plain = Self.copy(flash)
        let unaware = try Self.store(plain, geometry, batches: false)
        try unaware.initialize()
        #expect(unaware.state == .ready)
        #expect(try Self.values(unaware) == model)
        #expect(unaware.count == model.count)
        #expect(plain.contents == image)

        // The inspector, with the reference's rules.
        #expect(try Self.inspectedValues(flash, geometry) == model)

        // A store with batches again: the same, nothing written.
        let again = Self.copy(flash)
        let aware = try Self.store(again, geometry, batches: true)
        try aware.initialize()
        #expect(try Self.values(aware) == model)
        #expect(again.contents == image)
    }

    @Test("the reference pw_kvs images read the same with batches enabled, untouched",
          .enabled(if: PackagePaths.compatAvailable, "needs ../shared/compat"), arguments: CompatCase.all)
    func plainImagesUnaffected(_ compat: CompatCase) throws {
        let flags = try compat.flags()
        func flag(_ name: String) throws -> Int {
            let index = try #require(flags.firstIndex(of: name))
            return try #require(Int(flags[index + 1]))
        }
        let geometry = Geometry(sectorSize: try flag("--sector-size"), sectorCount: try flag("--sectors"),
                                alignment: try flag("--alignment"), redundancy: try flag("--redundancy"))
        let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: compat.imagePath)))
        let expected = try #require(try compat.description()["expected"] as? [String: String])
        var transactionCounts: [UInt32] = []
        for batches in [false, true] {
            let flash = RAMFlash(sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount,
                                 alignment: geometry.alignment)
            flash.load(image.span)
            let store = try Store(partition: FlashPartition(flash),
                                  format: EntryFormat(magic: StoreConfiguration.defaultMagic, checksum: .crc16),
                                  capacity: try flag("--max-entries"), redundancy: geometry.redundancy)
            if batches { store.enableBatches() }
            try store.initialize()
            #expect(store.state == .ready)
            #expect(try Self.values(store).mapValues { Hex.encode($0) } == expected, "batches: \(batches)")
            #expect(flash.contents == image, "batches: \(batches): init wrote")
            transactionCounts.append(store.transactionCount)
        }
        #expect(transactionCounts[0] == transactionCounts[1])
    }
}
