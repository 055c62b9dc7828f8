import FlashKVS
import Testing

// Helpers shared by StoreAPITests, ModelTests and WearTests. Names carry a
// `Store`/`store` prefix so they do not clash with other helpers in the
// FlashKVSTests target.

/// A flash geometry and store configuration for the store-level suites.
///
/// The flash has `flashSectorCount` sectors (default: just the partition's);
/// the partition covers `sectorCount` of them from `firstSector`.
struct StoreGeometry: Sendable, CustomTestStringConvertible {
    var sectorSize: Int
    var sectorCount: Int
    var flashAlignment: Int
    /// Partition alignment argument (0: the flash's).
    var partitionAlignment: Int = 0
    var firstSector: Int = 0
    var flashSectorCount: Int? = nil
    var redundancy: Int = 1
    /// CRC16 when true, no checksum otherwise.
    var checksummed: Bool = true
    var magic: UInt32 = 0x5b9a_341e
    var capacity: Int = 256
    var options: StoreOptionsChoice = .defaults

    var testDescription: String {
        var text = "\(sectorCount)x\(sectorSize) a\(max(partitionAlignment, flashAlignment))"
        if redundancy != 1 { text += " r\(redundancy)" }
        text += checksummed ? " crc16" : " no-checksum"
        if firstSector != 0 || flashSectorCount != nil {
            text += " (sectors \(firstSector)..<\(firstSector + sectorCount) of \(totalFlashSectors))"
        }
        if capacity != 256 { text += " capacity \(capacity)" }
        return text
    }

    var totalFlashSectors: Int { flashSectorCount ?? (firstSector + sectorCount) }
    var effectiveAlignment: Int { max(partitionAlignment, flashAlignment) }
    /// The alignment new entries are padded to (spec 1.3/1.4).
    var entryAlignment: Int { (effectiveAlignment + 15) / 16 * 16 }
    var partitionSize: Int { sectorSize * sectorCount }

    /// Bytes an entry of this key and value length occupies (spec 1.4).
    func entrySize(keyLength: Int, valueLength: Int) -> Int {
        storeAlignUp(16 + keyLength + valueLength, entryAlignment)
    }

    var format: EntryFormat { EntryFormat(magic: magic, checksum: checksummed ? .crc16 : .none) }

    /// A fresh erased flash of this geometry.
    func makeFlash() -> RAMFlash {
        RAMFlash(sectorSize: sectorSize, sectorCount: totalFlashSectors, alignment: flashAlignment)
    }

    /// A new, not yet initialized store over `flash`.
    func makeStore(on flash: RAMFlash) throws(KVSError) -> KeyValueStore<RAMFlash> {
        let partition = try FlashPartition(
            flash, firstSector: firstSector, sectorCount: sectorCount, alignment: partitionAlignment)
        return try KeyValueStore(
            partition: partition, format: format, capacity: capacity, redundancy: redundancy,
            options: options.options)
    }

    /// A new store over `flash`, initialized.
    func openStore(on flash: RAMFlash) throws(KVSError) -> KeyValueStore<RAMFlash> {
        let store = try makeStore(on: flash)
        try store.initialize()
        return store
    }
}

/// Sendable stand-in for ``Options`` in test arguments.
enum StoreOptionsChoice: Sendable {
    case defaults
    case gcDisabled
    case gcOneSector
    case noVerification
    case manualRecovery

    var options: Options {
        switch self {
        case .defaults: Options()
        case .gcDisabled: Options(garbageCollectionOnWrite: .disabled)
        case .gcOneSector: Options(garbageCollectionOnWrite: .oneSector)
        case .noVerification: Options(verifyOnRead: false, verifyOnWrite: false)
        case .manualRecovery: Options(recovery: .manual)
        }
    }
}

@inline(__always)
func storeAlignUp(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) / alignment * alignment
}

/// The result of a byte read plus what the buffer held afterwards.
struct StoreReadOutcome {
    var result: Result<Int, KVSError>
    var buffer: [UInt8]

    var error: KVSError? {
        if case .failure(let error) = result { return error }
        return nil
    }
    var count: Int? {
        if case .success(let count) = result { return count }
        return nil
    }
}

/// Reads `key` into a buffer of `bufferSize` bytes pre-filled with `fill`.
func storeRead(
    _ store: KeyValueStore<RAMFlash>, _ key: [UInt8], bufferSize: Int, offset: Int = 0, fill: UInt8 = 0xEE
) -> StoreReadOutcome {
    var buffer = [UInt8](repeating: fill, count: bufferSize)
    let result: Result<Int, KVSError>
    do {
        var span = buffer.mutableSpan
        result = .success(try store.get(key.span, into: &span, offset: offset))
    } catch {
        result = .failure(error)
    }
    return StoreReadOutcome(result: result, buffer: buffer)
}

func storeRead(
    _ store: KeyValueStore<RAMFlash>, _ key: String, bufferSize: Int, offset: Int = 0, fill: UInt8 = 0xEE
) -> StoreReadOutcome {
    storeRead(store, Array(key.utf8), bufferSize: bufferSize, offset: offset, fill: fill)
}

/// The whole value of `key`, read through `valueSize` and `get`.
func storeValue(_ store: KeyValueStore<RAMFlash>, _ key: [UInt8]) throws(KVSError) -> [UInt8] {
    try store.value(key.span)
}

func storeValue(_ store: KeyValueStore<RAMFlash>, _ key: String) throws(KVSError) -> [UInt8] {
    try store.value(Array(key.utf8).span)
}

/// Every present key and its value, by iterating the store.
func storeContents(_ store: KeyValueStore<RAMFlash>) throws(KVSError) -> [[UInt8]: [UInt8]] {
    var contents: [[UInt8]: [UInt8]] = [:]
    for item in store.items {
        let key = store.key(of: item)
        var value = [UInt8](repeating: 0, count: try store.valueSize(of: item))
        var span = value.mutableSpan
        let count = try store.get(item, into: &span)
        #expect(count == value.count, "get(item) read \(count) of \(value.count) bytes")
        contents[key] = value
    }
    return contents
}

/// Counts the keys `items` yields.
func storeItemCount(_ store: KeyValueStore<RAMFlash>) -> Int {
    var count = 0
    for _ in store.items { count += 1 }
    return count
}

/// The raw bytes of a bitwise-copyable value (what a typed put stores).
func storeBytes<Value: BitwiseCopyable>(of value: Value) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator, so the
/// randomized tests are reproducible on every platform.
struct StoreSplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The alphabet of the reference map test's random keys and values.
let storeAlphanumerics: [UInt8] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

func storeRandomString(length: Int, using generator: inout StoreSplitMix64) -> [UInt8] {
    (0..<length).map { _ in storeAlphanumerics[Int(generator.next() % UInt64(storeAlphanumerics.count))] }
}
