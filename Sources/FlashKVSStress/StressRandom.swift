/// SplitMix64: the deterministic random stream of the stress harnesses
/// (workload generation, random faults, scrambled read buffers). No
/// Foundation; the same seed gives the same stream on every platform.
public struct StressRandom: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (0 when `bound` <= 0).
    public mutating func below(_ bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        return Int(truncatingIfNeeded: next() % UInt64(bound))
    }

    /// A number in `range` (its lower bound when the range is empty).
    public mutating func within(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True once in `oneIn` draws on average.
    public mutating func oneIn(_ oneIn: Int) -> Bool { below(oneIn) == 0 }

    /// A seed derived from a text (FNV-1a 64), so that a workload's name
    /// fixes its random stream.
    public static func seed(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
