import FlashKVS

/// A fixed list of store operations on a fixed geometry, to be cut at
/// every flash program and erase by ``PowerLossSweep`` and to have each of
/// its flash reads fail by ``ReadFaultSweep``.
public struct SweepWorkload: Sendable {
    public enum Operation: Sendable, CustomStringConvertible {
        case put(String, [UInt8])
        case delete(String)
        /// A read of the key (present, deleted or never written).
        case get(String)
        case partialMaintenance
        case fullMaintenance
        case heavyMaintenance
        /// A new store object over the same flash, then `initialize()`.
        case reinitialize

        public var description: String {
            switch self {
            case .put(let key, let value): "put(\(key), \(value.count) B #\(ValueText.digest(value)))"
            case .delete(let key): "delete(\(key))"
            case .get(let key): "get(\(key))"
            case .partialMaintenance: "partialMaintenance"
            case .fullMaintenance: "fullMaintenance"
            case .heavyMaintenance: "heavyMaintenance"
            case .reinitialize: "reinitialize"
            }
        }
    }

    public var name: String
    public var sectorSize: Int
    public var sectorCount: Int
    public var alignment: Int
    public var redundancy: Int
    public var capacity: Int
    public var checksum: Checksum
    public var operations: [Operation]

    public init(
        name: String, sectorSize: Int, sectorCount: Int, alignment: Int, redundancy: Int, capacity: Int = 16,
        checksum: Checksum = .crc16, operations: [Operation]
    ) {
        self.name = name
        self.sectorSize = sectorSize
        self.sectorCount = sectorCount
        self.alignment = alignment
        self.redundancy = redundancy
        self.capacity = capacity
        self.checksum = checksum
        self.operations = operations
    }

    /// The magic of every sweep store.
    public static let magic: UInt32 = 0x3c2e_98a1

    /// The flash the workload runs on, erased.
    public func makeFlash() -> RAMFlash { RAMFlash(sectorSize: sectorSize, sectorCount: sectorCount, alignment: alignment) }

    /// A store over all of `flash`, default options (lazy recovery).
    public func makeStore<Flash: FlashMemory>(_ flash: Flash) -> KeyValueStore<Flash>? {
        try? openStore(flash)
    }

    /// ``makeStore(_:)``, with the API's error.
    public func openStore<Flash: FlashMemory>(_ flash: Flash) throws(KVSError) -> KeyValueStore<Flash> {
        let partition = try FlashPartition(flash)
        return try KeyValueStore(partition: partition, format: EntryFormat(magic: Self.magic, checksum: checksum),
                                 capacity: capacity, redundancy: redundancy)
    }

    /// A copy of `flash`'s bytes on a new RAMFlash of the same geometry.
    public func copy(of flash: RAMFlash) -> RAMFlash {
        let copy = makeFlash()
        copy.load(flash.contents.span)
        return copy
    }

    /// The keys the workload names, in order of first use.
    public var keys: [String] {
        var seen = Set<String>()
        var keys: [String] = []
        for operation in operations {
            switch operation {
            case .put(let key, _), .delete(let key), .get(let key):
                if seen.insert(key).inserted { keys.append(key) }
            default: break
            }
        }
        return keys
    }

    /// A value of `length` bytes that identifies version `version`.
    public static func value(_ version: Int, length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: version &* 31 &+ $0 &* 7) }
    }

    /// Updates that force garbage collection, deletes, new keys, a re-init
    /// and maintenance, sized so that `sectors` sectors of `sectorSize`
    /// bytes must be collected repeatedly.
    static func garbageCollectionMix(versions: Int, valueLength: Int) -> [Operation] {
        var operations: [Operation] = []
        for key in 0..<4 { operations.append(.put("key\(key)", value(key, length: valueLength))) }
        for version in 0..<versions {
            operations.append(.put("key\(version % 3)", value(100 + version, length: valueLength + version % 5)))
            if version == versions / 3 { operations += [.delete("key3"), .put("new", value(7, length: 9))] }
            if version == versions / 2 { operations += [.reinitialize, .partialMaintenance] }
        }
        operations += [.delete("key1"), .heavyMaintenance, .put("key3", value(300, length: 12)), .fullMaintenance]
        return operations
    }

    /// The workloads of issue 4: updates forcing garbage collection,
    /// deletes, new keys and heavy maintenance, with redundancy 1 and 2,
    /// alignment 16 and 64, checksum on.
    public static let standard: [SweepWorkload] = [
        SweepWorkload(name: "gc-r1-a16", sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 1,
                      operations: garbageCollectionMix(versions: 30, valueLength: 40)),
        SweepWorkload(name: "gc-r2-a16", sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 2,
                      operations: garbageCollectionMix(versions: 24, valueLength: 40)),
        SweepWorkload(name: "gc-r1-a64", sectorSize: 1024, sectorCount: 4, alignment: 64, redundancy: 1,
                      operations: garbageCollectionMix(versions: 30, valueLength: 90)),
        SweepWorkload(name: "gc-r2-a64", sectorSize: 1024, sectorCount: 6, alignment: 64, redundancy: 2,
                      operations: garbageCollectionMix(versions: 24, valueLength: 90)),
        // Redundancy 2 on only 4 sectors: two copies plus the reserve leave
        // one sector of slack, so every recovery must also free space.
        SweepWorkload(name: "tight-r2-a16", sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 2,
                      operations: garbageCollectionMix(versions: 24, valueLength: 24)),
        // Long runs: many garbage collections of every sector, several rotations.
        SweepWorkload(name: "long-r1-a16", sectorSize: 512, sectorCount: 8, alignment: 16, redundancy: 1,
                      operations: garbageCollectionMix(versions: 160, valueLength: 60)),
        SweepWorkload(name: "long-r2-a64", sectorSize: 1024, sectorCount: 8, alignment: 64, redundancy: 2,
                      operations: garbageCollectionMix(versions: 100, valueLength: 120)),
        // A key table of 5 fills up: new keys trigger automatic heavy maintenance.
        SweepWorkload(name: "table-full-r1-a16", sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 1,
                      capacity: 5, operations: (0..<14).flatMap { round -> [Operation] in
                          [.put("n\(round)", value(round, length: 20)), .delete("n\(round)")]
                      } + [.put("last", value(99, length: 30))]),
    ]
}
