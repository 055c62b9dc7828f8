/// The shape of a flash memory: erase sectors and write alignment.
public struct FlashGeometry: Equatable, Sendable {
    /// Bytes per erase sector.
    public var sectorSize: Int
    /// Number of sectors.
    public var sectorCount: Int
    /// Minimum write size in bytes.
    public var alignment: Int

    public init(sectorSize: Int, sectorCount: Int, alignment: Int) {
        self.sectorSize = sectorSize
        self.sectorCount = sectorCount
        self.alignment = alignment
    }

    /// Total bytes: sector size x sector count.
    public var byteCount: Int { sectorSize * sectorCount }

    /// Checks the numbers describe a memory at all (positive sizes, an
    /// alignment that divides the sector size, a size that fits 32-bit
    /// addresses). Store-specific limits are checked by ``StoreConfiguration``.
    /// - Throws: `FileFlashError.invalidGeometry` naming the bad value.
    public func validate() throws(FileFlashError) {
        guard sectorSize > 0 else { throw .invalidGeometry("the sector size must be positive (got \(sectorSize))") }
        guard sectorCount > 0 else { throw .invalidGeometry("the sector count must be positive (got \(sectorCount))") }
        guard alignment > 0 else { throw .invalidGeometry("the alignment must be positive (got \(alignment))") }
        guard sectorSize % alignment == 0 else {
            throw .invalidGeometry("the sector size \(sectorSize) is not a multiple of the alignment \(alignment)")
        }
        let (total, overflow) = sectorSize.multipliedReportingOverflow(by: sectorCount)
        guard !overflow, total <= Int(UInt32.max) else {
            throw .invalidGeometry("\(sectorCount) sectors of \(sectorSize) bytes exceed 4 GiB")
        }
    }
}
