/// The 64-bit FNV-1a hash of WORKLOADS.md section 5, used for the get and
/// final digests.
public struct FNV1a64: Sendable, Equatable {
    /// The hash of no bytes: also the get digest of a run without gets.
    public static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// The hash of every byte combined so far.
    public private(set) var value: UInt64 = FNV1a64.offsetBasis

    public init() {}

    @inline(__always)
    public mutating func combine(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* Self.prime
    }

    public mutating func combine(_ bytes: Span<UInt8>) {
        for index in 0..<bytes.count { combine(bytes[index]) }
    }

    public mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { combine(byte) }
    }

    /// The value as 16 lowercase hex digits, as the JSON output prints it.
    public var hex: String { Self.hex(value) }

    /// `value` as 16 lowercase, zero-padded hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The final digest of section 5 over keys `0..<keyCount` ascending: one
    /// byte 0x00 for an absent key, else 0x01 followed by its value.
    public static func finalDigest(keyCount: Int, value: (Int) -> [UInt8]?) -> UInt64 {
        var hash = FNV1a64()
        for key in 0..<keyCount {
            if let bytes = value(key) {
                hash.combine(1)
                hash.combine(bytes)
            } else {
                hash.combine(0)
            }
        }
        return hash.value
    }
}
