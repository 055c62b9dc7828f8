/// Intel HEX (I32HEX), the text format flash programmers load: data
/// records of 16 bytes, an extended linear address record (type 04)
/// wherever the upper 16 address bits change, and the end-of-file record.
/// Hand-written: neither the standard library nor Foundation writes it.
public enum IntelHex {
    /// The records for `bytes` placed at address `base`, every byte
    /// included (erased ones too: a programmer that erases the sectors it
    /// writes then leaves none of the old contents).
    /// - Throws: ``TextFormatError`` when the bytes do not fit below 4 GiB.
    public static func encode(_ bytes: [UInt8], base: UInt64) throws(TextFormatError) -> String {
        guard base + UInt64(bytes.count) <= 1 << 32 else {
            throw TextFormatError("--base \(hex32(UInt32(truncatingIfNeeded: base))) + \(bytes.count) bytes does not "
                + "fit Intel HEX's 32-bit addresses")
        }
        var lines: [String] = []
        lines.reserveCapacity(bytes.count / 16 + bytes.count / 65536 + 2)
        var upper: UInt64? = nil
        var index = 0
        while index < bytes.count {
            let address = base + UInt64(index)
            if address >> 16 != upper {
                upper = address >> 16
                lines.append(record(type: 0x04, address: 0, data: [UInt8(truncatingIfNeeded: address >> 24),
                                                                   UInt8(truncatingIfNeeded: address >> 16)]))
            }
            // A record stays inside one 64 KiB segment.
            let segmentEnd = Int((address | 0xFFFF) - base) + 1
            let end = min(index + 16, bytes.count, segmentEnd)
            lines.append(record(type: 0x00, address: UInt16(truncatingIfNeeded: address), data: bytes[index..<end]))
            index = end
        }
        lines.append(record(type: 0x01, address: 0, data: []))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `:LLAAAATT<data>CC`, the checksum making the bytes sum to zero.
    static func record(type: UInt8, address: UInt16, data: some Collection<UInt8>) -> String {
        let fields = [UInt8(data.count), UInt8(address >> 8), UInt8(address & 0xFF), type] + Array(data)
        let checksum = UInt8(truncatingIfNeeded: 0 &- fields.reduce(0) { $0 &+ Int($1) })
        return ":" + Hex.encode(fields + [checksum]).uppercased()
    }
}
