import FlashKVS

/// Short printable names for values in violation reports.
public enum ValueText {
    /// 4 hex digits of an FNV-1a hash of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        let hex = String(hash & 0xFFFF, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }

    /// "absent", or "N B #hash".
    public static func describe(_ value: [UInt8]?) -> String {
        guard let value else { return "absent" }
        return "\(value.count) B #\(digest(value))"
    }
}

/// A flash geometry and store configuration of the generated sweep.
public struct SweepGeometry: Sendable, Hashable, CustomStringConvertible {
    public enum ChecksumKind: String, Sendable, Hashable { case crc16, none }

    public var sectorSize: Int
    public var sectorCount: Int
    public var alignment: Int
    public var redundancy: Int
    public var checksum: ChecksumKind

    public init(sectorSize: Int, sectorCount: Int, alignment: Int, redundancy: Int, checksum: ChecksumKind) {
        self.sectorSize = sectorSize
        self.sectorCount = sectorCount
        self.alignment = alignment
        self.redundancy = redundancy
        self.checksum = checksum
    }

    /// e.g. `6x512-a16-r2-crc16`.
    public var description: String { "\(sectorCount)x\(sectorSize)-a\(alignment)-r\(redundancy)-\(checksum.rawValue)" }

    public var storeChecksum: Checksum { checksum == .crc16 ? .crc16 : .none }

    /// What the data may occupy: all sectors but the reserve, per copy.
    public var usableBytes: Int { (sectorCount - 1) * sectorSize / redundancy }

    /// Entries start at multiples of the alignment rounded up to 16.
    public var entryAlignment: Int { (max(alignment, 16) + 15) / 16 * 16 }

    /// Bytes an entry of this key and value length occupies on flash.
    public func entrySize(keyLength: Int, valueLength: Int) -> Int {
        (16 + keyLength + valueLength + entryAlignment - 1) / entryAlignment * entryAlignment
    }

    /// The generated set: every sector size from 256 B to 4 KiB with every
    /// redundancy (1, 2, 3) and alignment (8, 16, 64); the sector count
    /// cycles through 3...8 and the checksum alternates between CRC-16 and
    /// none so that every count meets every redundancy and both checksums.
    /// Then the geometries named in issue 17, and the tightest ones.
    public static let generated: [SweepGeometry] = {
        var geometries: [SweepGeometry] = []
        let sizes = [256, 512, 1024, 2048, 4096]
        for (sizeIndex, size) in sizes.enumerated() {
            for (redundancyIndex, redundancy) in [1, 2, 3].enumerated() {
                for (alignmentIndex, alignment) in [8, 16, 64].enumerated() {
                    let mix = sizeIndex * 3 + alignmentIndex + redundancyIndex * 2
                    geometries.append(SweepGeometry(
                        sectorSize: size, sectorCount: 3 + mix % 6, alignment: alignment, redundancy: redundancy,
                        checksum: (sizeIndex + alignmentIndex + redundancyIndex) % 2 == 0 ? .crc16 : .none))
                }
            }
        }
        // Issue 17's geometries, and the smallest of each redundancy.
        let named = [
            SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 2, checksum: .crc16),
            SweepGeometry(sectorSize: 256, sectorCount: 4, alignment: 8, redundancy: 1, checksum: .crc16),
            SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 1, checksum: .crc16),
            SweepGeometry(sectorSize: 4096, sectorCount: 4, alignment: 16, redundancy: 2, checksum: .crc16),
            SweepGeometry(sectorSize: 256, sectorCount: 4, alignment: 8, redundancy: 1, checksum: .none),
            SweepGeometry(sectorSize: 256, sectorCount: 3, alignment: 16, redundancy: 1, checksum: .crc16),
            SweepGeometry(sectorSize: 256, sectorCount: 3, alignment: 16, redundancy: 2, checksum: .crc16),
            SweepGeometry(sectorSize: 256, sectorCount: 3, alignment: 16, redundancy: 3, checksum: .crc16),
            SweepGeometry(sectorSize: 512, sectorCount: 4, alignment: 16, redundancy: 3, checksum: .crc16),
        ]
        for geometry in named where !geometries.contains(geometry) { geometries.append(geometry) }
        return geometries
    }()
}

extension SweepWorkload {
    /// A value of `length` bytes from version `version`'s own random
    /// stream (distinct versions differ, whatever their lengths).
    public static func randomValue(_ version: Int, length: Int) -> [UInt8] {
        var random = StressRandom(seed: UInt64(truncatingIfNeeded: version) &* 0x2545_F491_4F6C_DD1D &+ 17)
        return (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// The generated workload of `geometry`: large values (up to about half
    /// a sector), live data up to about half the usable space, so that
    /// garbage-collection copies fill the last erased sector; puts of new
    /// and existing keys (same value too), deletes and resurrections, gets,
    /// re-inits and partial, full and heavy maintenance. About `rotations`
    /// times the partition is written (copies included), at most
    /// `maxOperations` operations. Deterministic: the name seeds it.
    public static func generated(
        for geometry: SweepGeometry, rotations: Int = 2, maxOperations: Int = 90, tag: String = ""
    ) -> SweepWorkload {
        let name = "\(geometry)" + (tag.isEmpty ? "" : "-\(tag)")
        var random = StressRandom(seed: StressRandom.seed(name))
        let sectorSize = geometry.sectorSize
        let liveBudget = geometry.usableBytes / 2
        let target = rotations * geometry.sectorCount * sectorSize
        // Keys: short ones, and a few long ones (up to 63 bytes).
        let longKey = String(repeating: "L", count: min(63, max(1, sectorSize / 4 - 16)))
        let keyPool = ["a", "k1", "wifi", "cfg/x", "boot-count", "k5", "calib.table", "k7", "z", longKey, "user/name", "k11"]
        var live: [String: Int] = [:]        // present or deleted key -> bytes of its current entry
        var present: [String: Int] = [:]     // present key -> value length
        var deleted: [String] = []
        var used: [String] = []
        var operations: [Operation] = []
        var written = 0
        var version = 0

        func liveBytes() -> Int { live.values.reduce(0, +) }
        func maxValue(_ key: String) -> Int {
            // Up to half a sector of value (the entry is a little larger),
            // within what one entry may hold (values stay below 65535 bytes).
            var limit = min(sectorSize / 2, 65534)
            while limit > 1 && geometry.entrySize(keyLength: key.utf8.count, valueLength: limit) > sectorSize { limit -= 1 }
            return limit
        }
        /// A value length for `key` whose entry keeps live data within the budget.
        func valueLength(_ key: String) -> Int? {
            let room = liveBudget - (liveBytes() - (live[key] ?? 0))
            var limit = maxValue(key)
            while limit > 0 && geometry.entrySize(keyLength: key.utf8.count, valueLength: limit) > room { limit = limit * 3 / 4 }
            guard limit > 0 else { return nil }
            // Half of the values are large (the upper half of what fits).
            return random.oneIn(2) ? random.within(max(1, limit / 2)...limit) : random.within(1...max(1, limit / 4))
        }
        func put(_ key: String) -> Bool {
            guard let length = valueLength(key) else { return false }
            version += 1
            operations.append(.put(key, randomValue(version, length: length)))
            let size = geometry.entrySize(keyLength: key.utf8.count, valueLength: length)
            live[key] = size
            present[key] = length
            deleted.removeAll { $0 == key }
            if !used.contains(key) { used.append(key) }
            written += size * geometry.redundancy
            return true
        }
        // Fill to about 60 % of the live budget.
        for key in keyPool where liveBytes() < liveBudget * 6 / 10 {
            if !put(key) { break }
        }
        if present.isEmpty { _ = put("a") }
        while written < target && operations.count < maxOperations {
            let roll = random.below(100)
            let presentKeys = present.keys.sorted()
            switch roll {
            case 0..<40:
                if let key = presentKeys.isEmpty ? nil : presentKeys[random.below(presentKeys.count)] { _ = put(key) }
            case 40..<48:
                let fresh = keyPool.filter { live[$0] == nil }
                if let key = fresh.first { _ = put(key) }
            case 48..<56:
                if let key = presentKeys.isEmpty ? nil : presentKeys[random.below(presentKeys.count)] {
                    operations.append(.delete(key))
                    present[key] = nil
                    deleted.append(key)
                    let size = geometry.entrySize(keyLength: key.utf8.count, valueLength: 0)
                    live[key] = size
                    written += size * geometry.redundancy
                }
            case 56..<60:
                // The same value again: writes nothing.
                if let key = presentKeys.isEmpty ? nil : presentKeys[random.below(presentKeys.count)],
                   let previous = operations.last(where: { if case .put(key, _) = $0 { true } else { false } }),
                   case .put(_, let value) = previous {
                    operations.append(.put(key, value))
                }
            case 60..<66:
                if let key = deleted.isEmpty ? nil : deleted[random.below(deleted.count)] { _ = put(key) }
            case 66..<80:
                let candidates = used + ["never"]
                operations.append(.get(candidates[random.below(candidates.count)]))
            case 80..<85: operations.append(.reinitialize)
            case 85..<90: operations.append(.partialMaintenance)
            case 90..<94: operations.append(.fullMaintenance)
            default:
                operations.append(.heavyMaintenance)
                for key in deleted { live[key] = nil }  // tombstones are dropped
                deleted.removeAll()
            }
        }
        for key in present.keys.sorted() { operations.append(.get(key)) }
        return SweepWorkload(
            name: name, sectorSize: sectorSize, sectorCount: geometry.sectorCount, alignment: geometry.alignment,
            redundancy: geometry.redundancy, capacity: keyPool.count + 6, checksum: geometry.storeChecksum,
            operations: operations).feasible()
    }
}
