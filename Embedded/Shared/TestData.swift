// Keys, values and flash helpers shared by the QEMU programs. Nothing here
// allocates: keys and values are built in fixed-size stack buffers.
import FlashKVS

/// The entry format of the QEMU programs' stores.
let testFormat = EntryFormat(magic: 0x7E57_F1A5, checksum: .crc16)

/// Calls `body` with the bytes of test key `index`, "key/NNN" (0...999).
func withTestKey<Result>(
    _ index: Int, _ body: (Span<UInt8>) throws(KVSError) -> Result
) throws(KVSError) -> Result {
    var bytes = InlineArray<7, UInt8>(repeating: 0)
    bytes[0] = UInt8(ascii: "k")
    bytes[1] = UInt8(ascii: "e")
    bytes[2] = UInt8(ascii: "y")
    bytes[3] = UInt8(ascii: "/")
    bytes[4] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: index / 100 % 10)
    bytes[5] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: index / 10 % 10)
    bytes[6] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: index % 10)
    return try body(bytes.span)
}

/// The test key index encoded in `key`, or nil if it is not a test key.
func testKeyIndex(_ key: Span<UInt8>) -> Int? {
    guard key.count == 7, key[3] == UInt8(ascii: "/") else { return nil }
    var index = 0
    for position in 4..<7 {
        let digit = Int(key[position]) - Int(UInt8(ascii: "0"))
        guard digit >= 0, digit <= 9 else { return nil }
        index = index * 10 + digit
    }
    return index
}

/// Longest test value.
let maxTestValueSize = 44

/// Size of version `version` of key `key`'s value: 4...44 bytes, varying
/// with both, so entries of different sizes mix in every sector.
func testValueSize(key: Int, version: Int) -> Int { 4 + (key &* 7 &+ version &* 3) % 41 }

/// Byte `index` of version `version` of key `key`'s value.
func testValueByte(key: Int, version: Int, _ index: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: key &* 37 &+ version &* 11 &+ index &* 3 &+ 1)
}

/// Calls `body` with version `version` of key `key`'s value.
func withTestValue<Result>(
    key: Int, version: Int, _ body: (Span<UInt8>) throws(KVSError) -> Result
) throws(KVSError) -> Result {
    var bytes = InlineArray<44, UInt8>(repeating: 0)
    let size = testValueSize(key: key, version: version)
    for index in 0..<size { bytes[index] = testValueByte(key: key, version: version, index) }
    return try body(bytes.span.extracting(0..<size))
}

extension KeyValueStore {
    /// Stores version `version` of test key `key`.
    func putTestValue(key: Int, version: Int) throws(KVSError) {
        try withTestKey(key) { name throws(KVSError) in
            try withTestValue(key: key, version: version) { value throws(KVSError) in try put(name, value) }
        }
    }

    /// Deletes test key `key`.
    func deleteTestKey(_ key: Int) throws(KVSError) {
        try withTestKey(key) { name throws(KVSError) in try delete(name) }
    }

    /// The version of test key `key` the store returns: 0 when the key is
    /// absent; -1 when the value matches no version in `candidates`.
    /// Reads the whole value, so the store verifies its checksum.
    func storedTestVersion(key: Int, candidates: ClosedRange<Int>) throws(KVSError) -> Int {
        var bytes = InlineArray<64, UInt8>(repeating: 0)
        var buffer = bytes.mutableSpan
        let size: Int
        do throws(KVSError) {
            size = try withTestKey(key) { name throws(KVSError) in try get(name, into: &buffer) }
        } catch .notFound {
            return 0
        }
        for version in candidates where version > 0 && testValueSize(key: key, version: version) == size {
            var matches = true
            for index in 0..<size where buffer[index] != testValueByte(key: key, version: version, index) {
                matches = false
                break
            }
            if matches { return version }
        }
        return -1
    }
}

/// The committed version of every test key (0: absent or deleted).
struct TestModel {
    var versions = InlineArray<64, Int>(repeating: 0)

    /// Number of keys present.
    var presentCount: Int {
        var count = 0
        for key in 0..<64 where versions[key] > 0 { count += 1 }
        return count
    }
}

/// The addresses of the newest entry of test key `key` on `flash` (one
/// per copy), found by walking every sector's entries.
func copiesOnFlash(of key: Int, in flash: RAMFlash) -> (addresses: InlineArray<4, Int>, count: Int) {
    var addresses = InlineArray<4, Int>(repeating: -1)
    var count = 0
    var newest: UInt32 = 0
    for sector in 0..<flash.sectorCount {
        let base = sector * flash.sectorSize
        var address = base
        while address + EntryHeader.size <= base + flash.sectorSize {
            var raw = InlineArray<16, UInt8>(repeating: 0)
            for index in 0..<16 { raw[index] = flash[address + index] }
            let header = EntryHeader(decoding: raw.span)
            guard header.magic == testFormat.magic, header.keyLength <= 63,
                  address + header.entrySize <= base + flash.sectorSize else { break }
            var keyBytes = InlineArray<63, UInt8>(repeating: 0)
            for index in 0..<Int(header.keyLength) { keyBytes[index] = flash[address + EntryHeader.size + index] }
            if testKeyIndex(keyBytes.span.extracting(0..<Int(header.keyLength))) == key {
                if header.transactionID > newest {
                    newest = header.transactionID
                    count = 0
                }
                if header.transactionID == newest && count < 4 {
                    addresses[count] = address
                    count += 1
                }
            }
            address += header.entrySize
        }
    }
    return (addresses, count)
}
