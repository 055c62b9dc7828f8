/// The SplitMix64 generator of WORKLOADS.md section 1: the one random
/// stream every benchmark run draws from.
///
/// All arithmetic wraps modulo 2^64. For seed 1 the first outputs are
/// 0x910a2dec89025cc1, 0xbeeb8da1658eec67, 0xf893a2eefb32555e.
public struct SplitMix64: Sendable {
    /// The generator's whole state; starts at the seed.
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `next() % bound`: plain 64-bit modulo (its tiny bias is part of the
    /// contract).
    /// - Precondition: `bound > 0`.
    public mutating func uniform(_ bound: Int) -> Int {
        precondition(bound > 0, "uniform(0)")
        return Int(truncatingIfNeeded: next() % UInt64(bound))
    }

    /// Appends `count` random bytes to `bytes`: `ceil(count / 8)` outputs,
    /// each emitted little-endian, the unused high bytes of the last one
    /// discarded. A count of 0 draws nothing.
    public mutating func appendBytes(_ count: Int, to bytes: inout [UInt8]) {
        var remaining = count
        while remaining > 0 {
            var word = next()
            for _ in 0..<min(8, remaining) {
                bytes.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
            remaining -= min(8, remaining)
        }
    }

    /// `count` random bytes (see ``appendBytes(_:to:)``).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        appendBytes(count, to: &bytes)
        return bytes
    }
}
