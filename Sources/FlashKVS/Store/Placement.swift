// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// Sectors that placement and garbage collection must leave alone: those
/// of the addresses already reserved for the write in progress, and those
/// holding copies of up to two keys.
struct AvoidList {
    /// The first `reservedCount` reserved addresses.
    var reservedCount = 0
    /// A key whose copies' sectors are avoided (one being completed).
    var descriptor: Int? = nil
    /// A second key whose copies' sectors are avoided (one being relocated).
    var relocating: Int? = nil

    /// Whether nothing is avoided (a first copy written outside garbage
    /// collection).
    var isEmpty: Bool { reservedCount == 0 && descriptor == nil && relocating == nil }
}

/// Where new entries go and which sector garbage collection empties
/// (pw_kvs `internal::Sectors`): the policy over the sector table, where
/// wear leveling happens. It reads the key table and the reserved addresses
/// for the avoid list, changes only the sector table's `lastNewSector`, and
/// never touches flash (the store checks an empty sector before its first
/// write, ``KeyValueStore/prepareEmptySector(_:)``).
///
/// Every search visits sectors in rotation order after `lastNewSector`; all
/// are O(sectors) (plus O(redundancy) per avoided key and sector).
struct Placement {
    let sectors: SectorTable
    let keyTable: KeyTable
    /// Addresses reserved for the copies of the entry being written.
    let reserved: UnsafeMutablePointer<Int>

    /// Whether `sector` is in `avoid`.
    #if $Embedded
    @inline(never)
    #endif
    func isAvoided(_ sector: Int, _ avoid: AvoidList) -> Bool {
        #if !$Embedded
        // Hosts answer the usual empty list at once (an update is 1 % faster);
        // devices save the test's 24 B of code (the answer is the same).
        if avoid.isEmpty { return false }
        #endif
        for copy in 0..<avoid.reservedCount where sectors.sector(of: reserved[copy]) == sector { return true }
        return hasCopy(avoid.descriptor, in: sector) || hasCopy(avoid.relocating, in: sector)
    }

    /// Whether `descriptor` (if any) has a copy in `sector`.
    #if $Embedded
    @inline(never)
    #endif
    func hasCopy(_ descriptor: Int?, in sector: Int) -> Bool {
        guard let descriptor else { return false }
        return copy(of: descriptor, in: sector) != nil
    }

    /// The first copy of `descriptor` in `sector`, if any.
    @inline(__always)
    func copy(of descriptor: Int, in sector: Int) -> Int? {
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            if sectors.sector(of: address) == sector { return copy }
            copy &+= 1
        }
        return nil
    }

    /// A sector for a new entry of `size` bytes (pw_kvs `FindSpace`): the
    /// first partly written sector with room, else the first empty sector
    /// unless it is the last one (writes keep one erased sector in reserve
    /// for garbage collection), which becomes `lastNewSector`.
    /// - Returns: nil if no sector qualifies.
    func findSpace(size: Int, avoiding avoid: AvoidList) -> Int? {
        find(.newEntry, size: size, avoiding: avoid)
    }

    /// A sector to relocate an entry of `size` bytes into while a sector is
    /// garbage-collected (pw_kvs `FindSpaceDuringGarbageCollection`): the
    /// first partly written sector with room and nothing reclaimable, else
    /// the first empty sector (the reserved one too), which becomes
    /// `lastNewSector`, else the sector with room and the most reclaimable
    /// bytes.
    /// - Returns: nil if no sector qualifies.
    func findSpaceDuringGarbageCollection(size: Int, avoiding avoid: AvoidList) -> Int? {
        find(.relocation, size: size, avoiding: avoid)
    }

    private enum Mode { case newEntry, relocation }

    /// The two searches (pw_kvs `Sectors::Find`), in two passes in
    /// rotation order: partly written sectors with room first (a new entry
    /// takes the first; a relocation the first with nothing reclaimable,
    /// and remembers the one with the most), then empty sectors. pw_kvs
    /// makes one pass over every sector with the same outcome; the first
    /// pass here visits only the partly written ones (a bitmap), usually
    /// one or two, and the second runs only when they do not decide.
    private func find(_ mode: Mode, size: Int, avoiding avoid: AvoidList) -> Int? {
        let forRelocation = mode == .relocation
        var mostReclaimable: Int? = nil, reclaimableBest = 0
        let start = startRotation()
        var rotation = start
        while let sector = next(.partlyWritten, &rotation) {
            guard sectors.writableBytes(sector) >= size, !isAvoided(sector, avoid) else { continue }
            let reclaimable = sectors.reclaimableBytes(sector)
            if !forRelocation || reclaimable == 0 { return sector }
            if mostReclaimable == nil || reclaimable > reclaimableBest { (mostReclaimable, reclaimableBest) = (sector, reclaimable) }
        }
        // A new entry opens an empty sector only if another empty one stays
        // in reserve for garbage collection; a relocation may take the last.
        var firstEmpty: Int? = nil
        rotation = start
        while let sector = next(.empty, &rotation) {
            guard !isAvoided(sector, avoid) else { continue }
            if firstEmpty != nil || forRelocation {
                let opened = firstEmpty ?? sector
                sectors.lastNewSector = opened
                return opened
            }
            firstEmpty = sector
        }
        return forRelocation ? mostReclaimable : nil
    }

    /// A walk over every sector once, in rotation order after `lastNewSector`.
    private struct Rotation {
        var next: Int
        var remaining: Int
    }
    private enum SectorKind { case partlyWritten, empty }

    private func startRotation() -> Rotation {
        let count = sectors.count
        return Rotation(next: sectors.lastNewSector &+ 1 >= count ? 0 : sectors.lastNewSector &+ 1, remaining: count)
    }

    /// The next sector of `kind` in `rotation`, which it advances past it.
    private func next(_ kind: SectorKind, _ rotation: inout Rotation) -> Int? {
        let count = sectors.count
        while rotation.remaining > 0 {
            let end = min(count, rotation.next &+ rotation.remaining)
            let range = rotation.next..<end
            let found = kind == .empty ? sectors.firstEmpty(in: range) : sectors.firstPartlyWritten(in: range)
            guard let sector = found else {
                rotation.remaining &-= end &- rotation.next
                rotation.next = 0
                continue
            }
            rotation.remaining &-= sector &+ 1 &- rotation.next
            rotation.next = sector &+ 1 == count ? 0 : sector &+ 1
            return sector
        }
        return nil
    }

    /// The sector to garbage-collect to make room for a write (pw_kvs
    /// `FindSectorToGarbageCollect`): the first holding only stale data;
    /// else the one with the most reclaimable bytes; else the one with the
    /// most valid bytes (moving live data out of the way of the write).
    /// - Returns: nil if every sector is empty or avoided.
    func sectorToGarbageCollect(avoiding avoid: AvoidList) -> Int? {
        findSectorToCollect(.orMostValid, avoiding: avoid)
    }

    /// The sector whose collection frees the most without a reason to move
    /// live data (partial maintenance): the first holding only stale data,
    /// else the one with the most reclaimable bytes.
    /// - Returns: nil if nothing is reclaimable outside `avoid`.
    func sectorToReclaim(avoiding avoid: AvoidList) -> Int? {
        findSectorToCollect(.reclaimableOnly, avoiding: avoid)
    }

    private enum Fallback { case reclaimableOnly, orMostValid }

    /// Both choices in one pass: the first fully stale sector wins at once;
    /// the other two keep the first of equals (a best of 0 bytes: none).
    private func findSectorToCollect(_ fallback: Fallback, avoiding avoid: AvoidList) -> Int? {
        let count = sectors.count
        var next = sectors.lastNewSector
        var mostReclaimable = 0, reclaimableBest = 0
        var mostValid = 0, validBest = 0
        for _ in 0..<count {
            next = next &+ 1 == count ? 0 : next &+ 1
            let valid = sectors.validBytes(next), reclaimable = sectors.reclaimableBytes(next)
            guard reclaimable > reclaimableBest || valid > validBest || (valid == 0 && reclaimable > 0),
                  !isAvoided(next, avoid) else { continue }
            if valid == 0 && reclaimable > 0 { return next }
            if reclaimable > reclaimableBest { (mostReclaimable, reclaimableBest) = (next, reclaimable) }
            if valid > validBest { (mostValid, validBest) = (next, valid) }
        }
        if reclaimableBest > 0 { return mostReclaimable }
        return fallback == .orMostValid && validBest > 0 ? mostValid : nil
    }
}
