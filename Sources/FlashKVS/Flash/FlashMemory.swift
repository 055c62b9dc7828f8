/// A NOR flash device (or a region of one), as the store needs it.
///
/// Addresses are byte offsets from the start of the device. The device is
/// split into `sectorCount` erase sectors of `sectorSize` bytes. Programming
/// can only clear bits (turn erased bytes into data); only an erase sets a
/// whole sector back to `erasedByte`.
///
/// Implementations report failures with a ``KVSError``; the store passes it
/// on unchanged. The usual codes: `.outOfRange` (access past the end),
/// `.invalidArgument` (misaligned address or length), `.deadlineExceeded`
/// (timeout), `.unknown` (a program over bytes that are not erased).
public protocol FlashMemory {
    /// Bytes per erase sector.
    var sectorSize: Int { get }
    /// Number of erase sectors.
    var sectorCount: Int { get }
    /// Minimum write size; write addresses and lengths are multiples of it.
    var alignment: Int { get }
    /// The value of every byte after an erase (0xFF for NOR flash).
    var erasedByte: UInt8 { get }

    /// Reads `buffer.count` bytes starting at `address`.
    mutating func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError)
    /// Programs `bytes` at `address`; address and length are multiples of `alignment`.
    mutating func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError)
    /// Erases `count` whole sectors starting at the sector that begins at `address`.
    ///
    /// A sector made of several physical erase blocks must have them erased
    /// first block first (ascending addresses): an erase cut by power loss
    /// then leaves the sector's start erased and its end old, which the
    /// store recovers from. The reverse order can leave the start intact
    /// and the end erased; without a checksum, an old entry cut through by
    /// that boundary can then read as a valid entry of another key (use a
    /// checksum where a driver cannot promise the order).
    mutating func erase(at address: Int, sectorCount count: Int) throws(KVSError)
}
