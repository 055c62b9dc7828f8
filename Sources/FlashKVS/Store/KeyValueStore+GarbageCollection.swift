// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

extension KeyValueStore {
    /// Collects the sector ``Placement/sectorToGarbageCollect(avoiding:)``
    /// chooses (pw_kvs `GarbageCollect`): to make room for a write, live
    /// data is moved if nothing is reclaimable.
    /// - Throws: `.notFound` if every sector is empty or avoided; otherwise
    ///   as ``garbageCollectSector(_:avoiding:)``.
    func garbageCollect(avoiding avoid: AvoidList) throws(KVSError) {
        guard let sector = placement.sectorToGarbageCollect(avoiding: avoid) else { throw .notFound }
        try garbageCollectSector(sector, avoiding: avoid)
    }

    /// Collects the sector ``Placement/sectorToReclaim(avoiding:)`` chooses:
    /// live data is never moved just to erase a sector (pw_kvs does, spec 7.2 B7).
    /// - Throws: `.notFound` if nothing is reclaimable; otherwise as
    ///   ``garbageCollectSector(_:avoiding:)``.
    func reclaimOneSector() throws(KVSError) {
        guard let sector = placement.sectorToReclaim(avoiding: AvoidList()) else { throw .notFound }
        try garbageCollectSector(sector, avoiding: AvoidList())
    }

    /// Garbage-collects every corrupt sector not avoided, from sector 0 on,
    /// counting each one collected in `corruptSectorsRecovered`.
    /// - Returns: the first error (a later one replaces `.resourceExhausted`), or nil.
    func collectCorruptSectors(avoiding avoid: AvoidList) -> KVSError? {
        collectSectors(.corrupt, startingAfter: partition.sectorCount &- 1, avoiding: avoid)
    }

    /// The sectors a pass of ``collectSectors(_:startingAfter:avoiding:)`` collects.
    enum CollectionPass {
        /// Corrupt sectors; the pass goes on after a failure.
        case corrupt
        /// Sectors holding only stale data; the pass stops at the first failure.
        case stale
        /// Sectors with reclaimable bytes, their live data moved; the pass
        /// stops at the first failure.
        case reclaimable
    }

    /// Garbage-collects (``garbageCollectSector(_:avoiding:)``), in
    /// rotation order after `start`, every sector that `pass` takes and
    /// `avoid` does not hold; a `.corrupt` pass counts each sector it
    /// collects in `corruptSectorsRecovered`.
    /// - Returns: the first error (for `.corrupt`, a later one replaces
    ///   `.resourceExhausted`), or nil.
    /// - Complexity: O(sectors) plus the collections' copies and erases.
    func collectSectors(_ pass: CollectionPass, startingAfter start: Int, avoiding avoid: AvoidList) -> KVSError? {
        let count = partition.sectorCount
        var recorded: KVSError? = nil
        for step in 0..<count {
            let sector = (start &+ 1 &+ step) % count
            let takes = pass == .corrupt ? sectors.isCorrupt(sector)
                : sectors.reclaimableBytes(sector) > 0 && (pass == .reclaimable || sectors.validBytes(sector) == 0)
            guard takes, !placement.isAvoided(sector, avoid) else { continue }
            do {
                try garbageCollectSector(sector, avoiding: avoid)
                if pass == .corrupt { corruptSectorsRecovered &+= 1 }
            } catch {
                guard pass == .corrupt else { return error }
                if recorded == nil || recorded == .resourceExhausted { recorded = error }
            }
        }
        return recorded
    }

    /// Moves every live copy out of `sector`, then erases it.
    ///
    /// The sector is marked corrupt before the erase, so a failed erase
    /// leaves it unusable rather than half-trusted.
    /// - Throws: `.internal` if valid bytes remain after relocation; a
    ///   relocation or erase error.
    /// - Complexity: O(keys x redundancy) plus the copies and one erase.
    func garbageCollectSector(_ sector: Int, avoiding avoid: AvoidList) throws(KVSError) {
        if sectors.validBytes(sector) > 0 {
            // Every copy in the sector, in descriptor order: one tight pass over
            // the address slots instead of a division per copy of every key.
            let base = sectors.base(of: sector)
            var slot = 0
            while let found = keyTable.nextSlot(withAddressIn: base..<(base &+ sectorSize), from: slot) {
                let descriptor = found / redundancy
                var copy = found % redundancy
                if try relocate(descriptor, copy: copy, from: sector, avoiding: avoid) { copy &+= 1 }
                // Next slot: after this copy, or this one again if the last copy moved into it.
                slot = descriptor &* redundancy &+ copy
            }
        }
        guard sectors.validBytes(sector) == 0 else { throw .internal }
        if !sectors.isEmpty(sector) {
            sectors.markCorrupt(sector)
            sectorEraseCount &+= 1
            try partition.erase(at: sectors.base(of: sector))
            sectors.setWritable(sector, sectorSize)
        }
    }

    /// Copies copy `copy` of a key, which lies in `sector`, to another
    /// sector, unchanged (same header), away from the key's other copies
    /// and the avoided sectors.
    ///
    /// Repairing a corrupt sector with no room for the copy anywhere but
    /// beside the key's other copies, it drops the copy instead: the key
    /// lives on in another sector and redundancy repair writes the copy
    /// again once space is free (pw_kvs gives up and stays in error). The
    /// key's last copy then takes the dropped one's slot.
    /// - Returns: false if the copy was dropped.
    /// - Throws: `.resourceExhausted` if no sector has room (and the copy
    ///   is not dropped); a read or copy error.
    @inline(__always)
    private func relocate(_ descriptor: Int, copy: Int, from sector: Int, avoiding avoid: AvoidList) throws(KVSError) -> Bool {
        let entry = try readEntry(descriptor)
        let size = entry.header.entrySize
        var relocationAvoid = avoid
        relocationAvoid.relocating = descriptor
        var retried = false
        while true {
            guard let destinationSector = findSpaceDuringGarbageCollection(size: size, avoiding: relocationAvoid) else {
                guard sectors.isCorrupt(sector) && keyTable.addressCount(descriptor) > 1 else { throw .resourceExhausted }
                sectors.removeValid(sector, size)
                keyTable.removeAddress(descriptor, copy: copy)
                return false
            }
            let destination = sectors.nextWritableAddress(destinationSector)
            do {
                try copyEntry(entry, as: entry.header, to: destination)
            } catch where !retried {
                retried = true  // the destination is now marked corrupt: try once more elsewhere
                continue
            }
            sectors.removeValid(sector, size)
            keyTable.replaceAddress(descriptor, copy: copy, with: destination)
            return true
        }
    }

    /// Recovers an erased sector without copying anything, as needed after
    /// garbage collection was cut between copying a sector's live entries
    /// and erasing it (the copies filled the last erased sector; pw_kvs
    /// stays read-only there for good). Erases the first sector, in
    /// rotation order, that holds no live data, or else whose every live
    /// copy has an identical verified copy (same key, same transaction id,
    /// bytes that read the same twice) in a sector holding no other copy of
    /// that key: the key table is pointed at those copies first. The sector
    /// the interrupted collection copied into always qualifies. Sectors in
    /// `avoid` (those of a write's reserved addresses) are left alone.
    /// - Returns: whether a sector was erased.
    /// - Throws: the erase error. O(sectors) passes over the flash's
    ///   entries, each read and verified; recovery only.
    func eraseSectorHoldingOnlyDuplicates(avoiding avoid: AvoidList = AvoidList()) throws(KVSError) -> Bool {
        let count = sectors.count
        // First a sector without live data; then one left without live
        // data once its copies point at duplicates elsewhere (the sectors
        // the second pass gets to all hold live data: the first pass found
        // none without, and pointing copies adds none).
        for pass in 0..<2 {
            for step in 0..<count {
                let sector = (sectors.lastNewSector &+ 1 &+ step) % count
                guard !sectors.isEmpty(sector), !placement.isAvoided(sector, avoid) else { continue }
                if pass == 1 {
                    for other in 0..<count where other != sector { pointCopies(in: sector, atDuplicatesIn: other) }
                }
                guard sectors.validBytes(sector) == 0 else { continue }
                let wasCorrupt = sectors.isCorrupt(sector)
                // No live data: the collection only erases (it relocates nothing, so `avoid` is not used).
                try garbageCollectSector(sector, avoiding: avoid)
                if wasCorrupt { corruptSectorsRecovered &+= 1 }
                return true
            }
        }
        return false
    }

    /// For each entry of `other` that loads, verifies and reads the same
    /// twice more (a torn copy's bits may flicker), and is the current
    /// version of a key with a copy in `sector` and none in `other` (and,
    /// without a checksum, not a torn version of that copy): points that
    /// copy at the entry instead.
    private func pointCopies(in sector: Int, atDuplicatesIn other: Int) {
        let end = sectors.base(of: other) &+ sectorSize
        var address = sectors.base(of: other)
        while address < end {
            guard let (entry, keyHash) = try? Entry.load(at: address, in: io) else {
                address &+= EntryHeader.size  // past corrupt or unreadable bytes, to the next possible entry
                continue
            }
            address &+= entry.header.entrySize
            guard let descriptor = keyTable.find(hash: keyHash),
                  keyTable.transactionID(descriptor) == entry.header.transactionID,
                  !placement.hasCopy(descriptor, in: other), let copy = placement.copy(of: descriptor, in: sector), entry.isStable(),
                  // No checksum: never a torn version of the copy (tornCopy).
                  tornCopy(of: descriptor, copy: copy, entry.address) != entry.address else { continue }
            keyTable.replaceAddress(descriptor, copy: copy, with: entry.address)
            sectors.removeValid(sector, entry.header.entrySize)
            sectors.addValid(other, entry.header.entrySize)
        }
    }
}
