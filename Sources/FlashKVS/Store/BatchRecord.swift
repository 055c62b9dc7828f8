/// The on-flash records of atomic batches (Docs/BATCHES.md): an intent
/// record, an ordinary entry under a reserved key written before a batch's
/// members, and the tombstone of that key written after them (the commit)
/// or after a rollback (the resolution).
///
/// Intent value, 12 bytes, little-endian:
///
///     offset 0  u8   version (1)
///     offset 1  u8   flags (0; others are reserved)
///     offset 2  u16  member count N (1...16)
///     offset 4  u32  transaction id F of the first member (the intent's + 1);
///                    the members have F ... F+N-1, the commit F+N
///     offset 8  u32  digest: FNV-1a (32-bit) over each member, in order,
///                    of its key hash (u32, little-endian) and kind (0 put, 1 delete)
public enum BatchRecord {
    /// The reserved key: `00 6B 76 62` ("\0kvb"). Refused as a user key
    /// (`.invalidArgument`) by every API that takes a key.
    public static let key: InlineArray<4, UInt8> = [0x00, 0x6B, 0x76, 0x62]
    /// Bytes of an intent record's value.
    public static let valueSize = 12
    /// The version byte this code writes and reads.
    public static let version: UInt8 = 1
    /// Most operations one batch may hold (calls to `put` and `delete`,
    /// repeated keys included).
    public static let maxOperations = 16

    /// Whether `candidate` is the reserved key. O(1).
    @inline(__always)
    public static func isReserved(_ candidate: Span<UInt8>) -> Bool {
        candidate.count == 4 && candidate[0] == 0 && candidate[1] == 0x6B && candidate[2] == 0x76
            && candidate[3] == 0x62
    }

    /// The key hash of the reserved key.
    public static var keyHash: UInt32 {
        let bytes = key
        return KeyHash.of(bytes.span)
    }

    /// A decoded intent value.
    public struct Intent: Equatable, Sendable {
        /// Transaction id of the first member.
        public var firstTransactionID: UInt32
        /// Number of members (their ids are consecutive).
        public var memberCount: Int
        /// ``BatchRecord/digest(adding:kind:to:)`` over the members.
        public var digest: UInt32

        public init(firstTransactionID: UInt32, memberCount: Int, digest: UInt32) {
            self.firstTransactionID = firstTransactionID
            self.memberCount = memberCount
            self.digest = digest
        }

        /// Whether `transactionID` is one of the members'.
        public func isMember(_ transactionID: UInt32) -> Bool {
            transactionID >= firstTransactionID && transactionID &- firstTransactionID < UInt32(memberCount)
        }

        /// The id of the commit record (after the last member).
        public var commitTransactionID: UInt32 { firstTransactionID &+ UInt32(memberCount) }

        /// The 12-byte value. No allocation.
        public var encoded: InlineArray<12, UInt8> {
            var bytes = InlineArray<12, UInt8>(repeating: 0)
            bytes[0] = BatchRecord.version
            bytes[2] = UInt8(truncatingIfNeeded: memberCount)
            bytes[3] = UInt8(truncatingIfNeeded: memberCount >> 8)
            for index in 0..<4 {
                bytes[4 &+ index] = UInt8(truncatingIfNeeded: firstTransactionID >> (8 &* UInt32(index)))
                bytes[8 &+ index] = UInt8(truncatingIfNeeded: digest >> (8 &* UInt32(index)))
            }
            return bytes
        }

        /// Decodes an intent value; nil unless it is 12 bytes of version 1
        /// with flags 0 and 1...16 members.
        public init?(decoding bytes: Span<UInt8>) {
            guard bytes.count == BatchRecord.valueSize, bytes[0] == BatchRecord.version, bytes[1] == 0 else {
                return nil
            }
            let count = Int(bytes[2]) | Int(bytes[3]) << 8
            guard count >= 1, count <= BatchRecord.maxOperations else { return nil }
            memberCount = count
            firstTransactionID = EntryHeader.loadUInt32(bytes, 4)
            digest = EntryHeader.loadUInt32(bytes, 8)
        }
    }

    /// The digest's starting value (FNV-1a offset basis).
    public static let emptyDigest: UInt32 = 0x811C_9DC5

    /// Adds one member (its key hash and whether it is a delete) to `digest`.
    public static func digest(adding keyHash: UInt32, isDelete: Bool, to digest: UInt32) -> UInt32 {
        var state = digest
        for index in 0..<4 { state = (state ^ (keyHash >> (8 &* UInt32(index)) & 0xFF)) &* 0x0100_0193 }
        return (state ^ (isDelete ? 1 : 0)) &* 0x0100_0193
    }
}
