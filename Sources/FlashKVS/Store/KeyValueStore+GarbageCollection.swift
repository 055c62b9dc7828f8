extension KeyValueStore {
    /// The placement policy over the store's tables.
    var placement: Placement { Placement(sectors: sectors, keys: keys, reserved: reserved) }

    /// ``Placement/findSpace(size:avoiding:)``, skipping sectors that fail
    /// ``prepareEmptySector(_:)`` (each is marked corrupt: at most one search per sector).
    func findSpace(size: Int, avoiding avoid: AvoidList) -> Int? {
        while let sector = placement.findSpace(size: size, avoiding: avoid) {
            if prepareEmptySector(sector) { return sector }
        }
        return nil
    }

    /// ``Placement/findSpaceDuringGarbageCollection(size:avoiding:)``,
    /// skipping sectors that fail ``prepareEmptySector(_:)``.
    func findSpaceDuringGarbageCollection(size: Int, avoiding avoid: AvoidList) -> Int? {
        while let sector = placement.findSpaceDuringGarbageCollection(size: size, avoiding: avoid) {
            if prepareEmptySector(sector) { return sector }
        }
        return nil
    }

    /// Before the first write into `sector`, if it is an empty sector the
    /// scan did not read through (``SectorTable/isUnverifiedEmpty(_:)``):
    /// reads it, and erases it if any byte is not erased (it holds nothing
    /// the store indexes: the debris of an interrupted erase or write).
    /// - Returns: false if it could not be read or erased; it is then
    ///   marked corrupt (collected, i.e. erased, by the next repair).
    /// - Complexity: nothing for other sectors; else reads the sector once
    ///   (first use after init only) and erases it if needed.
    func prepareEmptySector(_ sector: Int) -> Bool {
        guard sectors.isUnverifiedEmpty(sector) else { return true }
        let base = sectors.base(of: sector)
        do {
            if try !io.isErased(from: base, to: base &+ sectorSize) { try io.eraseSector(at: base) }
            sectors.setVerified(sector, true)
            return true
        } catch {
            sectors.markCorrupt(sector)
            errorDetected = true
            return false
        }
    }

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

    /// Garbage-collects every corrupt sector not avoided, counting each
    /// one collected in `corruptSectorsRecovered`.
    /// - Returns: the first error (a later one replaces `.resourceExhausted`), or nil.
    func collectCorruptSectors(avoiding avoid: AvoidList) -> KVSError? {
        var recorded: KVSError? = nil
        for sector in 0..<partition.sectorCount where sectors.isCorrupt(sector) && !placement.isAvoided(sector, avoid) {
            do {
                try garbageCollectSector(sector, avoiding: avoid)
                corruptSectorsRecovered &+= 1
            } catch {
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
            while let found = keys.nextSlot(withAddressIn: base..<(base &+ sectorSize), from: slot) {
                let descriptor = found / redundancy
                var copy = found % redundancy
                do throws(KVSError) {
                    try relocate(descriptor, copy: copy, avoiding: avoid)
                    copy &+= 1
                } catch .resourceExhausted where sectors.isCorrupt(sector) && keys.addressCount(descriptor) > 1 {
                    // Repairing a corrupt sector with no room for this copy
                    // anywhere but beside the key's other copies: drop it;
                    // the key lives on in another sector and redundancy
                    // repair writes the copy again once space is free
                    // (pw_kvs gives up and stays in error).
                    let size = (try? readEntry(descriptor))?.header.entrySize ?? 0
                    sectors.removeValid(sector, size)
                    keys.removeAddress(descriptor, copy: copy)
                }
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

    /// Copies one copy of a key to another sector, unchanged (same header),
    /// away from the key's other copies and the avoided sectors.
    private func relocate(_ descriptor: Int, copy: Int, avoiding avoid: AvoidList) throws(KVSError) {
        let source = keys.address(descriptor, copy: copy)
        let entry = try readEntry(descriptor)
        var relocationAvoid = avoid
        relocationAvoid.relocating = descriptor
        var retried = false
        while true {
            guard let destinationSector = findSpaceDuringGarbageCollection(
                size: entry.header.entrySize, avoiding: relocationAvoid)
            else { throw .resourceExhausted }
            let destination = sectors.nextWritableAddress(destinationSector)
            do {
                try copyEntry(entry, as: entry.header, to: destination)
            } catch where !retried {
                retried = true  // the destination is now marked corrupt: try once more elsewhere
                continue
            }
            sectors.removeValid(sectors.sector(of: source), entry.header.entrySize)
            keys.replaceAddress(descriptor, copy: copy, with: destination)
            return
        }
    }
}
