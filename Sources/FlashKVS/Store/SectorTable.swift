// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// Per-sector accounting in RAM: the erased tail (`writable`) and the bytes
/// of copies the key table points to (`valid`), 4 bytes per sector in the
/// store's storage, a bit per sector for empty sectors not yet checked to
/// be erased throughout, and the wear-leveling origin `lastNewSector`.
///
/// A corrupt sector stores the sentinel 0xFFFF as its writable count and
/// reports 0 writable bytes, so nothing is appended to it until it is
/// garbage-collected. Sector sizes are therefore limited to 65534 bytes.
///
/// Accessors marked `@inline(never)` under `#if $Embedded` exist once in
/// device code (0.4 kB less); hosts inline them (an update is 5 to 10 %
/// faster).
struct SectorTable {
    static let corruptMarker: UInt16 = 0xFFFF

    /// The table's fields, followed by the counts. The table itself is one
    /// pointer, passed in one register to every call the store makes on it
    /// (keeping the fields out of it saves about 0.5 kB of device code).
    private struct Fields {
        var sectorSize: Int
        var count: Int
        var lastNewSector: Int
        var capacity: Int
    }
    private let fields: UnsafeMutablePointer<Fields>
    /// Per sector, its writable count then its valid count (right after the fields).
    private var counts: UnsafeMutablePointer<UInt16> {
        UnsafeMutableRawPointer(fields + 1).assumingMemoryBound(to: UInt16.self)
    }
    /// One bit per sector, after the counts: set while an empty sector is
    /// only known to start with erased bytes (see ``isUnverifiedEmpty(_:)``).
    private var unverifiedBits: UnsafeMutablePointer<UInt8> {
        (UnsafeMutableRawPointer(fields + 1) + 4 &* fields.pointee.capacity).assumingMemoryBound(to: UInt8.self)
    }

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
    static func byteCount(capacity: Int) -> Int { MemoryLayout<Fields>.stride &+ 4 &* capacity &+ (capacity &+ 7) / 8 }

    /// Creates a table of `capacity` erased sectors in the first
    /// ``byteCount(capacity:)`` bytes of `storage`, which the store owns (and frees).
    /// - Precondition: `storage` is aligned for pointers.
    @inline(__always)
    init(at storage: UnsafeMutableRawPointer, sectorSize: Int, capacity: Int) {
        fields = storage.bindMemory(to: Fields.self, capacity: 1)
        fields.initialize(to: Fields(sectorSize: sectorSize, count: 0, lastNewSector: 0, capacity: capacity))
        (storage + MemoryLayout<Fields>.stride).bindMemory(to: UInt16.self, capacity: 2 &* capacity)
            .initialize(repeating: 0, count: 2 &* capacity)
        let bitmapBytes = (capacity &+ 7) / 8
        let bitmap = storage + (MemoryLayout<Fields>.stride &+ 4 &* capacity)
        bitmap.bindMemory(to: UInt8.self, capacity: bitmapBytes).initialize(repeating: 0, count: bitmapBytes)
    }

    /// Traps unless `sector` is below the capacity.
    @inline(__always)
    private func check(_ sector: Int) {
        precondition(UInt(bitPattern: sector) < UInt(bitPattern: fields.pointee.capacity))
    }
    #if $Embedded
    @inline(never)
    #endif
    private func writableCount(_ sector: Int) -> UInt16 {
        check(sector)
        return counts[2 &* sector]
    }
    private func validCount(_ sector: Int) -> UInt16 {
        check(sector)
        return counts[2 &* sector &+ 1]
    }
    #if $Embedded
    @inline(never)
    #endif
    private func setWritableCount(_ sector: Int, _ value: UInt16) {
        check(sector)
        counts[2 &* sector] = value
    }
    private func setValidCount(_ sector: Int, _ value: UInt16) {
        check(sector)
        counts[2 &* sector &+ 1] = value
    }

    /// Marks `count` sectors erased and empty.
    @inline(__always)
    func reset(count: Int) {
        self.count = count
        lastNewSector = 0
        for sector in 0..<count {
            setWritableCount(sector, UInt16(truncatingIfNeeded: sectorSize))
            setValidCount(sector, 0)
        }
        unverifiedBits.update(repeating: 0, count: (fields.pointee.capacity &+ 7) / 8)
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
        let bytes = writableCount(sector)
        return bytes == Self.corruptMarker ? 0 : Int(bytes)
    }
    func validBytes(_ sector: Int) -> Int { Int(validCount(sector)) }
    @inline(never)
    func isCorrupt(_ sector: Int) -> Bool { writableCount(sector) == Self.corruptMarker }
    #if $Embedded
    @inline(never)
    #endif
    func isEmpty(_ sector: Int) -> Bool { writableCount(sector) == UInt16(truncatingIfNeeded: sectorSize) }
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
    #endif
    func setWritable(_ sector: Int, _ bytes: Int) { setWritableCount(sector, UInt16(truncatingIfNeeded: bytes)) }
    #if $Embedded
    @inline(never)
    #endif
    func markCorrupt(_ sector: Int) { setWritableCount(sector, Self.corruptMarker) }
    func removeWritable(_ sector: Int, _ bytes: Int) {
        guard !isCorrupt(sector) else { return }
        setWritable(sector, max(writableBytes(sector) &- bytes, 0))
    }
    @inline(never)
    func addValid(_ sector: Int, _ bytes: Int) {
        setValidCount(sector, UInt16(truncatingIfNeeded: min(validBytes(sector) &+ bytes, 0xFFFF)))
    }
    @inline(never)
    func removeValid(_ sector: Int, _ bytes: Int) {
        setValidCount(sector, UInt16(truncatingIfNeeded: max(validBytes(sector) &- bytes, 0)))
    }

    /// The first sector in `range` that is empty or has `size` writable
    /// bytes (never a corrupt one): the only sectors ``KeyValueStore``'s
    /// placement can choose. A tight scan of the writable counts.
    func firstEmptyOrWithRoom(for size: Int, in range: Range<Int>) -> Int? {
        let full = UInt16(truncatingIfNeeded: sectorSize)
        for sector in range {
            let bytes = counts[2 &* sector]
            if bytes != Self.corruptMarker && (bytes == full || Int(bytes) >= size) { return sector }
        }
        return nil
    }

    /// Bytes of valid entries in all sectors.
    var totalValidBytes: Int {
        var total = 0
        for sector in 0..<count { total &+= validBytes(sector) }
        return total
    }

    /// Whether any of the first `count` sectors is empty.
    @inline(__always)
    var hasEmptySector: Bool {
        for sector in 0..<count where isEmpty(sector) { return true }
        return false
    }
}
