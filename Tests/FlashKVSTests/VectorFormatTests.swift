import Foundation
import Testing
import FlashKVS

/// The `crc16`, `checksum_verify`, `key_hash` and `entry` vectors recorded
/// from the reference (spec section 6), plus the check values that hold
/// without `../shared`.
@Suite("Format vectors")
struct VectorFormatTests {
    @Test("CRC16 check value of \"123456789\" is 0x29B1, also when chained")
    func crc16CheckValue() {
        let data = Array("123456789".utf8)
        #expect(CRC16.update(CRC16.initial, data.span) == 0x29B1)
        let first = CRC16.update(CRC16.initial, Array(data[0..<5]).span)
        #expect(CRC16.update(first, Array(data[5...]).span) == 0x29B1)
        #expect(CRC16.update(CRC16.initial, [UInt8]().span) == 0xFFFF)
    }

    /// CRC-16/CCITT-FALSE one bit at a time: the definition, for comparison
    /// with the table-driven code (eight bytes per step on hosts).
    private static func bitwiseCRC16(_ bytes: [UInt8], _ initial: UInt16 = 0xFFFF) -> UInt16 {
        var crc = initial
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    @Test("CRC16 equals the bitwise definition for every length 0...300 and split point")
    func crc16MatchesBitwiseDefinition() {
        var random = SystemRandomNumberGenerator()
        for length in 0...300 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let expected = Self.bitwiseCRC16(data)
            #expect(CRC16.update(CRC16.initial, data.span) == expected, "length \(length)")
            let split = Int.random(in: 0...length, using: &random)
            let first = CRC16.update(CRC16.initial, Array(data[..<split]).span)
            #expect(CRC16.update(first, Array(data[split...]).span) == expected, "length \(length) split \(split)")
        }
    }

    @Test("an entry's checksum field is the bitwise CRC of its bytes with the field zeroed, padding included")
    func entryChecksumMatchesBitwiseDefinition() {
        let format = EntryFormat(magic: 0x1234_5678, checksum: .crc16)
        for alignment in [16, 32, 48, 64, 256] {
            for keyLength in [1, 3, 8, 10, 63] {
                for valueSize in [0, 1, 7, 8, 9, 32, 100] {
                    let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
                    let value = (0..<valueSize).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
                    var bytes = format.encodedEntry(key: key.span, value: value.span, transactionID: 9, alignment: alignment)
                    let field = UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24
                    for index in 4..<8 { bytes[index] = 0 }
                    #expect(field == UInt32(Self.bitwiseCRC16(bytes)),
                            "alignment \(alignment), key \(keyLength), value \(valueSize)")
                }
            }
        }
    }

    @Test("entry sizes round up to every alignment a header can state, powers of two or not")
    func entrySizesForEveryAlignment() {
        // alignmentUnits 0...255: 16, 32, 48 (not a power of two), ... 4096
        // bytes; the header, key and value rounded up to a multiple.
        for units in [0, 1, 2, 3, 4, 5, 7, 15, 255] as [UInt8] {
            let alignment = (Int(units) + 1) * 16
            for keyLength in [1, 8, 63] as [UInt8] {
                for valueSize in [0, 1, 15, 16, 17, 47, 48, 100, 1000] {
                    let header = EntryHeader(magic: 1, alignmentUnits: units, keyLength: keyLength,
                                             valueSizeField: UInt16(valueSize), transactionID: 1)
                    let content = 16 + Int(keyLength) + valueSize
                    let expected = (content + alignment - 1) / alignment * alignment
                    #expect(header.entrySize == expected, "units \(units), content \(content)")
                }
            }
        }
    }

    @Test("Key hash examples of spec 2.2, unsigned bytes")
    func keyHashExamples() {
        #expect(KeyHash.of(Array("a".utf8).span) == 0x0061_17DF)
        #expect(KeyHash.of(Array("key".utf8).span) == 0x2FDF_E281)
        #expect(KeyHash.of(Array("the quick brown fox".utf8).span) == 0x32D6_87FD)
        #expect(KeyHash.of([UInt8]([0xC3, 0xA9, 0x74, 0xC3, 0xA9]).span) == 0xC96A_930C)
    }

    @Test("crc16 vectors", .enabled(if: SharedData.isAvailable, SharedData.skipReason),
          arguments: SharedData.vectorNames(kind: "crc16"))
    func crc16Vector(name: String) throws {
        let vector = try #require(SharedData.vector(named: name))
        let expected = vector["expected"] as! [String: Any]
        var crc = CRC16.initial
        if let chunks = vector["input_hex"] as? [String] {
            for (index, chunk) in chunks.enumerated() {
                crc = CRC16.update(crc, [UInt8](hex: chunk).span)
                if index == 0, let after = expected["crc_after_first"] as? String {
                    #expect(UInt64(crc) == parseInteger(after))
                }
            }
        } else {
            crc = CRC16.update(crc, [UInt8](hex: vector["input_hex"] as! String).span)
        }
        #expect(UInt64(crc) == parseInteger(expected["crc"] as! String))
        if let state = expected["checksum_crc16_state_bytes_le"] as? String {
            #expect([UInt8(crc & 0xFF), UInt8(crc >> 8)] == [UInt8](hex: state))
        }
    }

    @Test("key_hash vectors", .enabled(if: SharedData.isAvailable, SharedData.skipReason),
          arguments: SharedData.vectorNames(kind: "key_hash"))
    func keyHashVector(name: String) throws {
        let vector = try #require(SharedData.vector(named: name))
        let expected = vector["expected"] as! [String: Any]
        let hash = KeyHash.of([UInt8](hex: vector["input_hex"] as! String).span)
        let wanted = expected["hash"] as? String ?? expected["hash_unsigned_char"] as! String
        #expect(UInt64(hash) == parseInteger(wanted))
    }

    @Test("CRC16 entries verify only their 2 state bytes (checksum_verify vector)",
          .enabled(if: SharedData.isAvailable, SharedData.skipReason))
    func crc16StoredFieldRules() throws {
        // FlashKVS has no standalone Verify(bytes) API; the rule shows in
        // entries: the upper two checksum-field bytes are not compared.
        let format = EntryFormat(magic: 0xAD16_5142, checksum: .crc16)
        var entry = format.encodedEntry(key: Array("key45".utf8).span, value: Array("VALUE!".utf8).span, transactionID: 7)
        let intact = format.verifyEntry(entry.span)
        #expect(intact)
        entry[6] = 0x33
        let upperBytesChanged = format.verifyEntry(entry.span)
        #expect(upperBytesChanged, "bytes 6-7 are outside the CRC16 state")
        entry[4] ^= 1
        let crcChanged = format.verifyEntry(entry.span)
        #expect(!crcChanged)
        let vector = try #require(SharedData.vector(named: "checksum_crc16_verify_rules"))
        let cases = vector["cases"] as! [[String: Any]]
        for testCase in cases {
            guard let verify = testCase["verify_hex"] as? String, verify.count >= 4,
                  let expected = testCase["expected"] as? String else { continue }
            let crc = CRC16.update(CRC16.initial, [UInt8](hex: testCase["update_hex"] as! String).span)
            let stored = [UInt8](hex: verify)
            #expect((stored[0] == UInt8(crc & 0xFF) && stored[1] == UInt8(crc >> 8)) == (expected == "OK"))
        }
    }

    @Test("entry vectors decode, re-encode byte for byte and verify",
          .enabled(if: SharedData.isAvailable, SharedData.skipReason),
          arguments: SharedData.vectorNames(kind: "entry"))
    func entryVector(name: String) throws {
        let vector = try #require(SharedData.vector(named: name))
        let config = vector["config"] as! [String: Any]
        let expected = vector["expected"] as! [String: Any]
        let bytes = [UInt8](hex: vector["entry_hex"] as! String)
        let formats: [EntryFormat]
        if let list = config["formats"] as? [[String: Any]] {
            formats = TestChecksums.formats(list)
        } else {
            formats = [EntryFormat(magic: UInt32(parseInteger(config["magic"] as! String)),
                                   checksum: TestChecksums.named(config["checksum"] as! String))]
        }
        let format = formats[0]

        if let read = expected["read"] as? String {
            let (error, header) = status { () throws(KVSError) in try EntryHeader.parse(bytes.span, formats: formats) }
            #expect(statusName(error) == read)
            if let header, let inFlash = expected["verify_checksum_in_flash"] as? String {
                let verified = format.verifyEntry(bytes.span)
                #expect((verified ? "OK" : "DATA_LOSS") == inFlash)
                let key = Array(bytes[16..<(16 + Int(header.keyLength))])
                let value = Array(bytes[(16 + key.count)..<(16 + key.count + header.valueSize)])
                let inMemory = format.checksumField(for: header, key: key.span, value: value.span) == header.checksumField
                    && (format.checksum.byteCount > 0 || header.checksumField == 0)
                let memoryExpectation = expected.first { $0.key.hasPrefix("verify_checksum_in_memory") }?.value as? String
                #expect((inMemory ? "OK" : "DATA_LOSS") == memoryExpectation)
                if expected["after_zeroing_bytes_4_to_7"] != nil {
                    var zeroed = bytes
                    for index in 4..<8 { zeroed[index] = 0 }
                    let verified = format.verifyEntry(zeroed.span)
                    #expect(verified)
                }
            }
            return
        }

        let header = try EntryHeader.parse(bytes.span, formats: formats)
        #expect(UInt64(header.magic) == parseInteger(expected["magic"] as! String))
        #expect(UInt64(header.checksumField) == parseInteger(expected["checksum_field"] as! String))
        #expect(Int(header.alignmentUnits) == expected["alignment_units"] as! Int)
        #expect(header.alignmentBytes == expected["alignment_bytes"] as! Int)
        #expect(Int(header.keyLength) == expected["key_length"] as! Int)
        #expect(header.isTombstone == expected["deleted"] as! Bool)
        #expect(UInt64(header.transactionID) == UInt64(expected["transaction_id"] as! Int))
        #expect(header.entrySize == expected["size"] as! Int)
        #expect(header.entrySize == bytes.count)
        let key = Array(bytes[16..<(16 + Int(header.keyLength))])
        #expect(keyString(key) == expected["key"] as! String)
        let value = Array(bytes[(16 + key.count)..<(16 + key.count + header.valueSize)])
        if let valueHex = expected["value_hex"] as? String { #expect(value == [UInt8](hex: valueHex)) }
        let verified = format.verifyEntry(bytes.span)
        #expect(verified == (expected["verify_checksum_in_flash"] as? String == "OK"))

        // Encoding the decoded content reproduces the recorded bytes exactly.
        let encoded = format.encodedEntry(
            key: key.span, value: value.span, deleted: header.isTombstone, transactionID: header.transactionID,
            alignment: config["entry_alignment_bytes"] as? Int ?? 16)
        #expect(encoded == bytes)
    }
}
