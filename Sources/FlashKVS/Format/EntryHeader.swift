// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// The 16-byte little-endian header that starts every entry on flash.
///
///     offset size field
///          0    4 magic            selects the EntryFormat
///          4    4 checksum         state bytes of the format's checksum
///          8    1 alignment units  entry alignment = (units + 1) * 16 bytes
///          9    1 key length       1...63
///         10    2 value size       0xFFFF marks a deleted key (tombstone)
///         12    4 transaction id   highest id wins for a key
///
/// The key, the value and zero padding up to the entry alignment follow.
public struct EntryHeader: Equatable, Sendable {
    /// Size of the header in bytes (also the minimum entry alignment).
    public static let size = 16
    /// Longest key in bytes.
    public static let maxKeyLength = 63
    /// Value-size field of a tombstone.
    public static let tombstoneValueSize: UInt16 = 0xFFFF

    public var magic: UInt32
    public var checksumField: UInt32
    /// Bytes 8...11 as one little-endian word: alignment units, key length,
    /// value size. A header is then four words, which calls pass in
    /// registers (six fields took 0.1 kB more device code).
    private var sizes: UInt32
    public var transactionID: UInt32

    public var alignmentUnits: UInt8 {
        get { UInt8(truncatingIfNeeded: sizes) }
        set { sizes = sizes & 0xFFFF_FF00 | UInt32(newValue) }
    }
    public var keyLength: UInt8 {
        get { UInt8(truncatingIfNeeded: sizes >> 8) }
        set { sizes = sizes & 0xFFFF_00FF | UInt32(newValue) << 8 }
    }
    public var valueSizeField: UInt16 {
        get { UInt16(truncatingIfNeeded: sizes >> 16) }
        set { sizes = sizes & 0x0000_FFFF | UInt32(newValue) << 16 }
    }

    public init(
        magic: UInt32, checksumField: UInt32 = 0, alignmentUnits: UInt8, keyLength: UInt8,
        valueSizeField: UInt16, transactionID: UInt32
    ) {
        self.magic = magic
        self.checksumField = checksumField
        self.sizes = UInt32(alignmentUnits) | UInt32(keyLength) << 8 | UInt32(valueSizeField) << 16
        self.transactionID = transactionID
    }

    /// Decodes the first 16 bytes of `bytes`.
    /// - Precondition: `bytes` holds at least 16 bytes.
    @inline(__always)
    public init(decoding bytes: Span<UInt8>) {
        precondition(bytes.count >= Self.size)
        // One length check, then plain loads (a check per byte cost 0.1 kB).
        (magic, checksumField, sizes, transactionID) = bytes.withUnsafeBytes { raw in
            (Self.loadUInt32(raw, 0), Self.loadUInt32(raw, 4), Self.loadUInt32(raw, 8), Self.loadUInt32(raw, 12))
        }
    }

    /// Decodes and checks a header as the store does when reading flash.
    /// - Throws: `.notFound` if the magic bytes are all `erasedByte` (free
    ///   space); `.dataLoss` for a key length over 63 or a magic that none
    ///   of `formats` has; `.outOfRange` for fewer than 16 bytes.
    @inline(__always)
    public static func parse(
        _ bytes: Span<UInt8>, formats: [EntryFormat], erasedByte: UInt8 = 0xFF
    ) throws(KVSError) -> EntryHeader {
        guard bytes.count >= size else { throw .outOfRange }
        let header = EntryHeader(decoding: bytes)
        // All four magic bytes erased.
        if header.magic == UInt32(erasedByte) &* 0x0101_0101 { throw .notFound }
        guard Int(header.keyLength) <= maxKeyLength else { throw .dataLoss }
        for format in formats where format.magic == header.magic { return header }
        throw .dataLoss
    }

    /// Whether this header, found at byte `offset` of a sector of
    /// `sectorSize` bytes where no entry loads, starts another format's
    /// entries, which the store must not erase unasked: its magic cannot be
    /// one of `formats`' even damaged (``EntryFormat/couldBeDamagedMagic(_:)``),
    /// its key length is 1...63, header, key and value fit the sector, and
    /// it chains as a store's entries do: `nextMagic`, the first 4 bytes
    /// where its size says the next entry starts (nil when that is the
    /// sector's end), is erased, this magic, or one of `formats`'. Random
    /// damage passes about once in 2^32.
    public func isOfAnotherFormat(
        than formats: [EntryFormat], offset: Int, sectorSize: Int, nextMagic: UInt32?, erasedByte: UInt8
    ) -> Bool {
        fits(offset: offset, sectorSize: sectorSize) && !EntryFormat.couldBeDamagedMagic(magic, ofAnyOf: formats)
            && chains(to: nextMagic, formats: formats, offset: offset, sectorSize: sectorSize, erasedByte: erasedByte)
    }

    /// The last condition of ``isOfAnotherFormat(than:offset:sectorSize:nextMagic:erasedByte:)``:
    /// `nextMagic` is erased, this magic or one of `formats'` (nil: this
    /// entry ends the sector).
    func chains(to nextMagic: UInt32?, formats: [EntryFormat], offset: Int, sectorSize: Int, erasedByte: UInt8) -> Bool {
        guard let nextMagic else { return offset &+ entrySize == sectorSize }
        if nextMagic == magic || nextMagic == UInt32(erasedByte) &* 0x0101_0101 { return true }
        for format in formats where format.magic == nextMagic { return true }
        return false
    }

    /// Whether the key length is 1...63 and header, key and value fit a
    /// sector of `sectorSize` bytes from byte `offset`.
    @inline(__always)
    func fits(offset: Int, sectorSize: Int) -> Bool {
        keyLength > 0 && Int(keyLength) <= Self.maxKeyLength && offset &+ Self.size &+ contentSize <= sectorSize
    }

    /// Whether this entry marks a deleted key.
    public var isTombstone: Bool { valueSizeField == Self.tombstoneValueSize }
    /// Number of value bytes stored (0 for a tombstone).
    public var valueSize: Int { isTombstone ? 0 : Int(valueSizeField) }
    /// The entry's alignment in bytes, 16...4096.
    public var alignmentBytes: Int { (Int(alignmentUnits) &+ 1) &* 16 }
    /// Bytes the whole entry occupies on flash, padding included.
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    public var entrySize: Int { alignUp(Self.size &+ Int(keyLength) &+ valueSize, alignmentBytes) }
    /// Bytes of key and value.
    var contentSize: Int { Int(keyLength) + valueSize }

    /// The alignment-units field for a partition alignment:
    /// `ceil(alignment / 16) - 1`.
    public static func alignmentUnits(forPartitionAlignment alignment: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (alignment + 15) / 16 - 1)
    }

    /// Writes the 16 header bytes, with the checksum field zeroed when
    /// `zeroChecksum` (the form the checksum is computed over).
    /// - Precondition: `bytes` holds at least 16 bytes.
    func encode(into bytes: inout MutableSpan<UInt8>, zeroChecksum: Bool = false) {
        precondition(bytes.count >= Self.size)
        let checksumField = zeroChecksum ? 0 : checksumField
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: checksumField.littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: sizes.littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: transactionID.littleEndian, toByteOffset: 12, as: UInt32.self)
        }
    }

    /// The 16 encoded header bytes; with `zeroChecksum`, the checksum field
    /// zeroed (the form the checksum covers).
    func encoded(zeroChecksum: Bool = false) -> InlineArray<16, UInt8> {
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        var span = bytes.mutableSpan
        encode(into: &span, zeroChecksum: zeroChecksum)
        return bytes
    }

    /// The little-endian word at `offset` of `bytes` (one bounds check).
    @inline(__always)
    static func loadUInt32(_ bytes: Span<UInt8>, _ offset: Int) -> UInt32 {
        precondition(offset >= 0 && offset <= bytes.count - 4)
        return bytes.withUnsafeBytes { raw in loadUInt32(raw, offset) }
    }

    /// The little-endian word at `offset` of `raw`, unchecked.
    @inline(__always)
    private static func loadUInt32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
