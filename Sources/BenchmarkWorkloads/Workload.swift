/// The five benchmark workloads of WORKLOADS.md.
public enum Workload: String, CaseIterable, Sendable {
    /// Puts keys 0..<K once each into an empty store (timed ops = K).
    case fill
    /// N puts of random keys with new random values.
    case update
    /// N gets of random keys.
    case read
    /// N ops: 70 % get, 25 % put, 5 % delete.
    case mixed
    /// N constructions + `initialize()` of a new store over the filled flash.
    case initialize = "init"

    /// Whether the workload draws an op sequence after the fill values.
    public var drawsOperations: Bool { self == .update || self == .read || self == .mixed }
}

/// The benchmark keys of WORKLOADS.md section 2: key `i` is the ASCII text
/// `"key%05d" % i`, 8 bytes for every supported key count.
public enum BenchmarkKeys {
    /// Largest key count of the contract (1 <= K <= 99999): all keys have 5 digits.
    public static let maxKeyCount = 99_999
    /// Bytes per key.
    public static let length = 8

    /// The bytes of key `index`, no terminator.
    /// - Precondition: `0 <= index <= maxKeyCount`.
    public static func name(_ index: Int) -> [UInt8] {
        precondition(index >= 0 && index <= maxKeyCount, "key index out of range")
        var bytes: [UInt8] = Array("key".utf8)
        var divisor = 10_000
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(index / divisor % 10))
            divisor /= 10
        }
        return bytes
    }
}

/// One timed operation of the update, read or mixed workloads.
public struct Operation: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case get, put, delete
    }

    public var kind: Kind
    /// Index of the key (0..<K).
    public var key: Int32
    /// For a put, where its value starts in ``WorkloadPlan/values``.
    public var valueOffset: Int

    public init(kind: Kind, key: Int32, valueOffset: Int = 0) {
        self.kind = kind
        self.key = key
        self.valueOffset = valueOffset
    }
}

/// Everything a run executes, generated before timing (WORKLOADS.md
/// section 3): the keys, the fill values and the timed op sequence, all
/// drawn from one SplitMix64 stream in the contract's order.
///
/// Keys and values live in two flat byte arrays so that the timed loop can
/// take spans of them without allocating.
public struct WorkloadPlan: Sendable {
    public let workload: Workload
    /// K: the keys are 0..<K.
    public let keyCount: Int
    /// V: bytes per value.
    public let valueSize: Int
    /// N as given on the command line (the timed op count except for fill).
    public let operationCount: Int
    public let seed: UInt64
    /// Key `i` is `keyBytes[i * 8 ..< i * 8 + 8]`.
    public let keyBytes: [UInt8]
    /// The fill value of key `i` at `i * V`, then the value of every put of
    /// ``operations`` at its `valueOffset`.
    public let values: [UInt8]
    /// The timed ops of update, read and mixed; empty for fill and init.
    public let operations: [Operation]

    /// Draws the plan of `workload` (fill values for keys 0..<K, then the
    /// op sequence of N ops where the workload has one).
    /// - Precondition: `1 <= keyCount <= BenchmarkKeys.maxKeyCount`,
    ///   `valueSize >= 0`, `operationCount >= 0`.
    public init(workload: Workload, operationCount: Int, keyCount: Int, valueSize: Int, seed: UInt64) {
        precondition(keyCount >= 1 && keyCount <= BenchmarkKeys.maxKeyCount, "key count out of range")
        precondition(valueSize >= 0 && operationCount >= 0, "negative size or count")
        self.workload = workload
        self.keyCount = keyCount
        self.valueSize = valueSize
        self.operationCount = operationCount
        self.seed = seed

        var keyBytes: [UInt8] = []
        keyBytes.reserveCapacity(keyCount * BenchmarkKeys.length)
        for key in 0..<keyCount { keyBytes += BenchmarkKeys.name(key) }
        self.keyBytes = keyBytes

        var random = SplitMix64(seed: seed)
        var values: [UInt8] = []
        values.reserveCapacity(keyCount * valueSize)
        for _ in 0..<keyCount { random.appendBytes(valueSize, to: &values) }

        var operations: [Operation] = []
        if workload.drawsOperations {
            operations.reserveCapacity(operationCount)
            for _ in 0..<operationCount {
                let kind: Operation.Kind
                switch workload {
                case .update:
                    kind = .put
                case .read:
                    kind = .get
                default:
                    let roll = random.uniform(100)
                    kind = roll < 70 ? .get : roll < 95 ? .put : .delete
                }
                let key = Int32(random.uniform(keyCount))
                if kind == .put {
                    operations.append(Operation(kind: .put, key: key, valueOffset: values.count))
                    random.appendBytes(valueSize, to: &values)
                } else {
                    operations.append(Operation(kind: kind, key: key))
                }
            }
        }
        self.values = values
        self.operations = operations
    }

    /// The number of timed ops: K for fill, N otherwise.
    public var timedOperationCount: Int { workload == .fill ? keyCount : operationCount }

    /// Where key `key`'s fill value starts in ``values``.
    public func fillValueOffset(_ key: Int) -> Int { key * valueSize }

    /// The bytes of key `key`.
    public func key(_ key: Int) -> ArraySlice<UInt8> {
        keyBytes[key * BenchmarkKeys.length..<(key + 1) * BenchmarkKeys.length]
    }

    /// The V bytes of `values` starting at `offset`.
    public func value(at offset: Int) -> ArraySlice<UInt8> {
        values[offset..<offset + valueSize]
    }
}
