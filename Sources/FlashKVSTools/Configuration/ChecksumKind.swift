import FlashKVS

/// The checksum algorithms a flash image can use from the command line:
/// the two that pw_kvs ships.
public enum ChecksumKind: String, CaseIterable, Sendable {
    /// CRC-16/CCITT-FALSE (pw_kvs `ChecksumCrc16`), 2 state bytes.
    case crc16
    /// No checksum: the header's checksum field must be zero.
    case none

    /// The core's checksum for this kind.
    public var checksum: Checksum {
        switch self {
        case .crc16: .crc16
        case .none: .none
        }
    }
}
