// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// Per-sector accounting in RAM: the erased tail (`writable`) and the bytes
/// of copies the key table points to (`valid`), a bit per sector for empty
/// sectors not yet checked to be erased throughout, a bit per sector for
/// partly written ones (placement visits only those, not every sector),
/// and the wear-leveling origin `lastNewSector`.
///
/// The counts take 2 bytes each (4 per sector) for sectors of up to 65534
/// bytes, and 4 bytes each (8 per sector) for larger sectors
/// (``countWidth(sectorSize:)``): RAM grows only when a sector needs it. A
/// corrupt sector stores a sentinel above any sector size as its writable
/// count and reports 0 writable bytes, so nothing is appended to it until
/// it is garbage-collected.
///
/// Accessors marked `@inline(never)` under `#if $Embedded` exist once in
/// device code (0.4 kB less); hosts inline them (an update is 5 to 10 %
/// faster).
struct SectorTable {
    /// The table's fields, followed by the counts. The table itself is one
    /// pointer, passed in one register to every call the store makes on it
    /// (keeping the fields out of it saves about 0.5 kB of device code).
    private struct Fields {
        var sectorSize: Int
        var count: Int
        var lastNewSector: Int
        var capacity: Int
        /// Whether the counts are 32-bit (sectors over 65534 bytes).
        var wide: Bool
        /// The two bitmaps, after the counts (kept here rather than
        /// computed from the count width at each use: 84 B less device code
        /// for 8 B of RAM).
        var unverifiedBits: UnsafeMutablePointer<UInt8>
        var partlyWrittenBits: UnsafeMutablePointer<UInt8>
    }
    private let fields: UnsafeMutablePointer<Fields>
    /// Per sector, its writable count then its valid count (right after the
    /// fields), 16-bit or, if `wide`, 32-bit.
    private var counts: UnsafeMutableRawPointer { UnsafeMutableRawPointer(fields + 1) }
    /// One bit per sector, after the counts: set while an empty sector is
    /// only known to start with erased bytes (see ``isUnverifiedEmpty(_:)``).
    private var unverifiedBits: UnsafeMutablePointer<UInt8> { fields.pointee.unverifiedBits }
    /// One bit per sector, after the unverified bits: set while the
    /// sector's writable count is above 0 and below the sector size (kept
    /// by ``setWritable(_:_:)``; see ``firstPartlyWritten(in:)``).
    private var partlyWrittenBits: UnsafeMutablePointer<UInt8> { fields.pointee.partlyWrittenBits }
    /// Bytes of one bitmap of `capacity` sectors.
    private static func bitmapBytes(capacity: Int) -> Int { (capacity &+ 7) >> 3 }

    /// Bytes per count: 2 for sectors of up to 65534 bytes, else 4.
    static func countWidth(sectorSize: Int) -> Int { sectorSize > 65534 ? 4 : 2 }
    /// The writable count that marks a corrupt sector: above any sector
    /// size of its width (and a positive `Int` on 32-bit targets).
    private var corruptMarker: Int { fields.pointee.wide ? 0x7FFF_FFFF : 0xFFFF }

    var sectorSize: Int { fields.pointee.sectorSize }
    private(set) var count: Int {
        get { fields.pointee.count }
        nonmutating set { fields.pointee.count = newValue }
    }
    /// The sector most recently opened for new data; placement and garbage
    /// collection search in rotation order starting after it.
    var lastNewSector: Int {
        get { fields.pointee.lastNewSector }
        nonmutating set { fields.pointee.lastNewSector = newValue }
    }

    /// Bytes the table occupies at the start of the storage it is created in.
    static func byteCount(capacity: Int, sectorSize: Int) -> Int {
        MemoryLayout<Fields>.stride &+ 2 &* countWidth(sectorSize: sectorSize) &* capacity &+ 2 &* bitmapBytes(capacity: capacity)
    }

    /// Creates a table of `capacity` erased sectors in the first
    /// ``byteCount(capacity:sectorSize:)`` bytes of `storage`, which the store owns (and frees).
    /// - Precondition: `storage` is aligned for pointers and zeroed.
    @inline(__always)
    init(at storage: UnsafeMutableRawPointer, sectorSize: Int, capacity: Int) {
        fields = storage.bindMemory(to: Fields.self, capacity: 1)
        let wide = Self.countWidth(sectorSize: sectorSize) == 4
        let countBytes = 2 &* Self.countWidth(sectorSize: sectorSize) &* capacity
        let bits = (storage + (MemoryLayout<Fields>.stride &+ countBytes))
            .bindMemory(to: UInt8.self, capacity: 2 &* Self.bitmapBytes(capacity: capacity))
        fields.initialize(to: Fields(sectorSize: sectorSize, count: 0, lastNewSector: 0, capacity: capacity, wide: wide,
                                     unverifiedBits: bits, partlyWrittenBits: bits + Self.bitmapBytes(capacity: capacity)))
    }

    /// Traps unless `sector` is below the capacity.
    @inline(__always)
    private func check(_ sector: Int) {
        precondition(UInt(bitPattern: sector) < UInt(bitPattern: fields.pointee.capacity))
    }
    /// Count `slot` (2 x sector: writable, 2 x sector + 1: valid).
    #if $Embedded
    @inline(never)
    #endif
    private func count(at slot: Int) -> Int {
        check(slot >> 1)
        return fields.pointee.wide
            ? Int(counts.load(fromByteOffset: 4 &* slot, as: UInt32.self))
            : Int(counts.load(fromByteOffset: 2 &* slot, as: UInt16.self))
    }
    #if $Embedded
    @inline(never)
    #endif
    private func setCount(at slot: Int, _ value: Int) {
        check(slot >> 1)
        if fields.pointee.wide {
            counts.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: 4 &* slot, as: UInt32.self)
        } else {
            counts.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: 2 &* slot, as: UInt16.self)
        }
    }
    private func writable(_ sector: Int) -> Int { count(at: 2 &* sector) }
    private func valid(_ sector: Int) -> Int { count(at: 2 &* sector &+ 1) }
    private func setValid(_ sector: Int, _ value: Int) { setCount(at: 2 &* sector &+ 1, value) }

    /// Marks `count` sectors erased and empty.
    @inline(__always)
    func reset(count: Int) {
        self.count = count
        lastNewSector = 0
        for sector in 0..<count {
            setWritable(sector, sectorSize)
            setValid(sector, 0)
        }
        // Both bitmaps: nothing unverified, nothing partly written.
        unverifiedBits.update(repeating: 0, count: 2 &* Self.bitmapBytes(capacity: fields.pointee.capacity))
    }

    /// Whether `sector` is empty but only known to start with an erased
    /// header: the init scan does not read on (pw_kvs neither), but an erase
    /// cut short or an entry torn before its header was programmed leaves
    /// bytes behind such a start. The store checks the sector before its
    /// first write (``KeyValueStore/prepareEmptySector(_:)``).
    func isUnverifiedEmpty(_ sector: Int) -> Bool {
        check(sector)
        return unverifiedBits[sector >> 3] & (1 << (sector & 7)) != 0
    }
    /// Records whether `sector`, now empty, is known to be erased throughout.
    func setVerified(_ sector: Int, _ verified: Bool) {
        check(sector)
        let bit = UInt8(1 << (sector & 7))
        unverifiedBits[sector >> 3] = verified ? unverifiedBits[sector >> 3] & ~bit : unverifiedBits[sector >> 3] | bit
    }

    #if $Embedded
    @inline(never)
    #endif
    func sector(of address: Int) -> Int { address / sectorSize }
    func base(of sector: Int) -> Int { sector &* sectorSize }

    #if $Embedded
    @inline(never)
    #endif
    func writableBytes(_ sector: Int) -> Int {
        let bytes = writable(sector)
        return bytes == corruptMarker ? 0 : bytes
    }
    #if $Embedded
    @inline(never)
    #endif
    func validBytes(_ sector: Int) -> Int { valid(sector) }
    @inline(never)
    func isCorrupt(_ sector: Int) -> Bool { writable(sector) == corruptMarker }
    #if $Embedded
    @inline(never)
    #endif
    func isEmpty(_ sector: Int) -> Bool { writable(sector) == sectorSize }
    /// Stale, deleted-but-unneeded and corrupt bytes: what an erase frees.
    @inline(never)
    func reclaimableBytes(_ sector: Int) -> Int { sectorSize &- validBytes(sector) &- writableBytes(sector) }
    /// Where the next entry appended to `sector` goes.
    #if $Embedded
    @inline(never)
    #endif
    func nextWritableAddress(_ sector: Int) -> Int { base(of: sector) &+ sectorSize &- writableBytes(sector) }

    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    func setWritable(_ sector: Int, _ bytes: Int) {
        setCount(at: 2 &* sector, bytes)
        let bit = UInt8(truncatingIfNeeded: 1 &<< (sector & 7)), bits = partlyWrittenBits[sector >> 3]
        partlyWrittenBits[sector >> 3] = bytes > 0 && bytes < sectorSize ? bits | bit : bits & ~bit
    }
    #if $Embedded
    @inline(never)
    #endif
    func markCorrupt(_ sector: Int) { setWritable(sector, corruptMarker) }
    func removeWritable(_ sector: Int, _ bytes: Int) {
        guard !isCorrupt(sector) else { return }
        setWritable(sector, max(writableBytes(sector) &- bytes, 0))
    }
    @inline(never)
    func addValid(_ sector: Int, _ bytes: Int) {
        setValid(sector, min(validBytes(sector) &+ bytes, sectorSize))
    }
    @inline(never)
    func removeValid(_ sector: Int, _ bytes: Int) {
        setValid(sector, max(validBytes(sector) &- bytes, 0))
    }

    /// The first sector in `range` that is partly written: some bytes
    /// programmed, some still writable (not empty, not full, not corrupt).
    /// O(range / 8): a scan of the bitmap, a byte at a time.
    func firstPartlyWritten(in range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        check(range.lowerBound)
        check(range.upperBound &- 1)
        var sector = range.lowerBound
        while sector < range.upperBound {
            let bits = partlyWrittenBits[sector >> 3] >> UInt8(truncatingIfNeeded: sector & 7)
            if bits != 0 {
                let found = sector &+ bits.trailingZeroBitCount
                return found < range.upperBound ? found : nil
            }
            sector = (sector | 7) &+ 1
        }
        return nil
    }

    /// The first empty sector in `range` (never a corrupt one): a tight
    /// scan of the writable counts (slot 2 x sector of ``count(at:)``),
    /// read directly, with one range check and one width test for the scan.
    func firstEmpty(in range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        check(range.lowerBound)
        check(range.upperBound &- 1)
        let full = sectorSize
        if fields.pointee.wide {
            for sector in range where Int(counts.load(fromByteOffset: 8 &* sector, as: UInt32.self)) == full {
                return sector
            }
        } else {
            for sector in range where Int(counts.load(fromByteOffset: 4 &* sector, as: UInt16.self)) == full {
                return sector
            }
        }
        return nil
    }

    /// Whether the partly-written bitmap agrees with the writable counts
    /// of the first `count` sectors and is clear beyond them (for the
    /// store's invariant check).
    var partlyWrittenBitsMatchCounts: Bool {
        for sector in 0..<fields.pointee.capacity {
            let bytes = sector < count ? writable(sector) : 0
            let set = partlyWrittenBits[sector >> 3] & UInt8(truncatingIfNeeded: 1 &<< (sector & 7)) != 0
            if set != (bytes > 0 && bytes < sectorSize) { return false }
        }
        return true
    }

    /// Bytes of valid entries in all sectors.
    var totalValidBytes: Int {
        var total = 0
        for sector in 0..<count { total &+= validBytes(sector) }
        return total
    }

    /// Whether any of the first `count` sectors is empty (out of line on
    /// devices: inlined, its loop was repeated in its callers).
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    var hasEmptySector: Bool {
        for sector in 0..<count where isEmpty(sector) { return true }
        return false
    }
}
