/// A run of whole sectors of a flash memory, with partition-relative
/// addresses: the region a ``KeyValueStore`` owns.
///
/// Every operation checks its range and alignment and throws instead of
/// trapping: `.outOfRange` past the end, `.invalidArgument` for a misaligned
/// write or erase, `.permissionDenied` for writes to a read-only partition.
public struct FlashPartition<Flash: FlashMemory> {
    /// The underlying flash memory.
    public var flash: Flash
    /// Index of the partition's first sector in the flash.
    public let firstSector: Int
    /// Number of sectors in the partition.
    public let sectorCount: Int
    /// Write alignment: the flash alignment, or a larger multiple of it.
    public let alignment: Int
    /// Whether writes and erases are allowed.
    public let isWritable: Bool

    /// Creates a partition over `sectorCount` sectors of `flash` (all
    /// remaining sectors when nil) starting at `firstSector`.
    ///
    /// `alignment` 0 takes the flash alignment; otherwise the effective
    /// alignment is the larger of the two and must be a multiple of the
    /// flash alignment.
    /// - Throws: `.invalidArgument` for a zero flash alignment or sector
    ///   size, or an alignment that is not a multiple of the flash's;
    ///   `.outOfRange` if the sectors are not all inside the flash.
    public init(
        _ flash: Flash, firstSector: Int = 0, sectorCount: Int? = nil,
        alignment: Int = 0, writable: Bool = true
    ) throws(KVSError) {
        let flashAlignment = flash.alignment
        guard flashAlignment > 0, flash.sectorSize > 0, alignment >= 0 else { throw .invalidArgument }
        let count = sectorCount ?? (flash.sectorCount - firstSector)
        guard firstSector >= 0, count >= 0, firstSector + count <= flash.sectorCount else {
            throw .outOfRange
        }
        let effective = alignment == 0 ? flashAlignment : max(alignment, flashAlignment)
        guard effective % flashAlignment == 0 else { throw .invalidArgument }
        self.flash = flash
        self.firstSector = firstSector
        self.sectorCount = count
        self.alignment = effective
        self.isWritable = writable
    }

    /// Bytes per sector.
    public var sectorSize: Int { flash.sectorSize }
    /// Total bytes in the partition.
    public var size: Int { sectorCount * flash.sectorSize }
    /// The byte value of erased flash.
    public var erasedByte: UInt8 { flash.erasedByte }

    @inline(__always)
    private var base: Int { firstSector * flash.sectorSize }

    /// Reads `buffer.count` bytes at partition address `address`.
    /// - Throws: `.outOfRange`, or the flash's error.
    public mutating func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        guard address >= 0, address <= size, buffer.count <= size - address else { throw .outOfRange }
        try flash.read(at: base + address, into: &buffer)
    }

    /// Programs `bytes` at partition address `address`.
    /// - Throws: `.permissionDenied`, `.outOfRange`, `.invalidArgument`
    ///   (misaligned), or the flash's error.
    public mutating func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        guard isWritable else { throw .permissionDenied }
        guard address >= 0, address <= size, bytes.count <= size - address else { throw .outOfRange }
        guard address % alignment == 0, bytes.count % alignment == 0 else { throw .invalidArgument }
        try flash.write(at: base + address, bytes)
    }

    /// Erases `count` sectors starting at partition address `address`.
    /// - Throws: `.permissionDenied`, `.outOfRange`, `.invalidArgument`
    ///   (not sector-aligned), or the flash's error.
    public mutating func erase(at address: Int, sectorCount count: Int = 1) throws(KVSError) {
        guard isWritable else { throw .permissionDenied }
        guard address >= 0, count >= 0, address % sectorSize == 0 else { throw .invalidArgument }
        guard address / sectorSize + count <= sectorCount else { throw .outOfRange }
        try flash.erase(at: base + address, sectorCount: count)
    }

    /// Erases the whole partition.
    public mutating func eraseAll() throws(KVSError) {
        try erase(at: 0, sectorCount: sectorCount)
    }

    /// Whether `count` bytes at `address` all hold the erased value.
    /// Reads in chunks of 64 bytes and stops at the first written byte.
    /// - Throws: `.outOfRange` for a negative count or a region not inside
    ///   the partition, or the flash's read error.
    public mutating func isRegionErased(at address: Int, count: Int) throws(KVSError) -> Bool {
        guard count >= 0, address >= 0, address <= size - count else { throw .outOfRange }
        var chunk = InlineArray<64, UInt8>(repeating: 0)
        var whole = chunk.mutableSpan
        var offset = 0
        let erased = erasedByte
        while offset < count {
            let length = min(64, count - offset)
            var part = whole._mutatingExtracting(first: length)
            try read(at: address + offset, into: &part)
            for index in 0..<length where part[index] != erased { return false }
            offset += length
        }
        return true
    }
}
