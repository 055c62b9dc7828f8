// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// The checksum algorithm of an ``EntryFormat``.
///
/// A checksum runs over the entry's header (with its checksum field zeroed),
/// key, value and padding. Its state is at most 4 bytes and is stored
/// little-endian at the start of the header's 4-byte checksum field; the
/// rest of the field is zero. Verification compares only the algorithm's
/// `byteCount` bytes, as pw_kvs does.
///
/// Built in: ``crc16`` (pw_kvs's `ChecksumCrc16`) and ``none`` (the field
/// must be zero). Plug in your own with ``custom(byteCount:initialState:update:)``.
///
/// A checksum is a plain value (no reference counting), so entry formats
/// are copied freely; that keeps the device code about 0.5 kB smaller than
/// with a Swift closure.
public struct Checksum: Sendable {
    /// A custom checksum's update function: the state after the `count`
    /// bytes at `bytes`, continuing from `state`. A C function pointer: a
    /// Swift closure that captures nothing, a global function, or a C
    /// function (a vendor's CRC driver, say).
    public typealias Update = @convention(c) (_ state: UInt32, _ bytes: UnsafePointer<UInt8>?, _ count: Int) -> UInt32

    enum Kind: Sendable {
        case none
        case crc16
        case custom(Update)
    }

    let kind: Kind
    /// Number of state bytes stored in the checksum field (0...4).
    public let byteCount: Int
    let initialState: UInt32

    /// No checksum: the checksum field must be all zero.
    public static var none: Checksum { Checksum(kind: .none, byteCount: 0, initialState: 0) }

    /// CRC-16/CCITT-FALSE (see ``CRC16``), 2 state bytes.
    public static var crc16: Checksum { Checksum(kind: .crc16, byteCount: 2, initialState: UInt32(CRC16.initial)) }

    /// A user-defined checksum. `update(state, bytes, count)` returns the
    /// state after the `count` bytes at `bytes` (never nil when `count` > 0);
    /// the state starts at `initialState` and its low `byteCount` bytes
    /// (1...4, clamped) are stored little-endian.
    ///
    ///     let sum32 = Checksum.custom(byteCount: 4) { state, bytes, count in
    ///         var state = state
    ///         for index in 0..<count { state &+= UInt32(bytes![index]) }
    ///         return state
    ///     }
    public static func custom(byteCount: Int, initialState: UInt32 = 0, update: Update) -> Checksum {
        Checksum(kind: .custom(update), byteCount: min(max(byteCount, 1), 4), initialState: initialState)
    }

    private init(kind: Kind, byteCount: Int, initialState: UInt32) {
        self.kind = kind
        self.byteCount = byteCount
        self.initialState = initialState
    }

    /// The state after `bytes`, continuing from `state`.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func update(_ state: UInt32, _ bytes: Span<UInt8>) -> UInt32 {
        switch kind {
        case .none: state
        case .crc16: UInt32(CRC16.update(UInt16(truncatingIfNeeded: state), bytes))
        case .custom(let update): bytes.withUnsafeBufferPointer { update(state, $0.baseAddress, $0.count) }
        }
    }

    /// The state after `count` zero bytes.
    func updateWithZeros(_ state: UInt32, count: Int) -> UInt32 {
        var state = state
        let zeros = InlineArray<16, UInt8>(repeating: 0)
        var remaining = count
        while remaining > 0 {
            let length = min(16, remaining)
            state = update(state, zeros.span.extracting(0..<length))
            remaining -= length
        }
        return state
    }

    /// The value the 4-byte checksum field holds for a final `state`.
    func fieldValue(_ state: UInt32) -> UInt32 {
        byteCount >= 4 ? state : state & ((1 &<< UInt32(truncatingIfNeeded: byteCount &* 8)) &- 1)
    }

    /// Whether a stored checksum field matches the final `state`
    /// (only the algorithm's own bytes are compared; no algorithm: the
    /// whole field must be zero).
    func matches(field: UInt32, state: UInt32) -> Bool {
        if case .none = kind { return field == 0 }
        return fieldValue(field) == fieldValue(state)
    }
}
