/// How the flash operation in progress when power fails is left
/// (``RAMFlash/schedulePowerCut(atOperation:interruption:)``).
public enum Interruption: CaseIterable, Sendable {
    /// The operation did not start: nothing changed.
    case notApplied
    /// The operation completed just before power failed.
    case applied
    /// A program reached only the first half of its bytes (rounded down to
    /// the write alignment); the rest stays erased.
    case programPrefix
    /// A program cleared only some of the bits it meant to clear, in every
    /// byte it touched.
    case programPartialBits
    /// A program left some of the bits it meant to clear unstable: they
    /// read back differently on every read until the sector is erased.
    case programUnstableBits
    /// An erase set only the first half of its range to the erased value;
    /// the rest keeps its old bytes.
    case erasePartial

    /// Whether the state describes an interrupted program (write).
    public var appliesToPrograms: Bool { self != .erasePartial }
    /// Whether the state describes an interrupted erase.
    public var appliesToErases: Bool { self == .notApplied || self == .applied || self == .erasePartial }
}
