/// Sectors that placement and garbage collection must leave alone: those
/// of the addresses already reserved for the write in progress, and those
/// holding copies of up to two keys.
struct AvoidList {
    /// The first `reservedCount` addresses of `reserved`.
    var reservedCount = 0
    /// A key whose copies' sectors are avoided (one being completed).
    var descriptor: Int? = nil
    /// A second key whose copies' sectors are avoided (one being relocated).
    var relocating: Int? = nil
}

extension KeyValueStore {
    func isAvoided(_ sector: Int, _ avoid: AvoidList) -> Bool {
        for copy in 0..<avoid.reservedCount where sectors.sector(of: reserved[copy]) == sector { return true }
        return hasCopy(avoid.descriptor, in: sector) || hasCopy(avoid.relocating, in: sector)
    }

    func hasCopy(_ descriptor: Int?, in sector: Int) -> Bool {
        guard let descriptor else { return false }
        for copy in 0..<keys.addressCount(descriptor)
        where sectors.sector(of: keys.address(descriptor, copy: copy)) == sector {
            return true
        }
        return false
    }

    /// Chooses a sector for `size` new bytes (pw_kvs `Sectors::Find`);
    /// this is where wear leveling happens. Visits sectors in rotation order
    /// after `lastNewSector`:
    /// 1. a partly written sector with room (for relocation: only one with
    ///    nothing reclaimable);
    /// 2. else the first empty sector, if it is not the last one (writes
    ///    keep one erased sector in reserve; relocation may use it), which
    ///    becomes `lastNewSector`;
    /// 3. for relocation, else the sector with room and the most
    ///    reclaimable bytes.
    /// - Returns: nil if no sector qualifies. O(sectors).
    func findSpace(size: Int, forRelocation: Bool, avoiding avoid: AvoidList) -> Int? {
        // A sector that fails its check is marked corrupt: at most one search per sector.
        while let sector = findSpaceUnchecked(size: size, forRelocation: forRelocation, avoiding: avoid) {
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
            if try !isErased(from: base, to: base &+ sectorSize) { try partition.erase(at: base) }
            sectors.setVerified(sector, true)
            return true
        } catch {
            sectors.markCorrupt(sector)
            errorDetected = true
            return false
        }
    }

    private func findSpaceUnchecked(size: Int, forRelocation: Bool, avoiding avoid: AvoidList) -> Int? {
        let count = partition.sectorCount
        var firstEmpty: Int? = nil
        var secondEmptySeen = false
        var mostReclaimable: Int? = nil
        // Visit, in rotation order after lastNewSector, only the sectors that
        // are empty or have room: the others can never be chosen.
        var next = sectors.lastNewSector &+ 1 == count ? 0 : sectors.lastNewSector &+ 1
        var remaining = count
        while remaining > 0 {
            let end = min(count, next &+ remaining)
            guard let sector = sectors.firstEmptyOrWithRoom(for: size, in: next..<end) else {
                remaining &-= end &- next
                next = 0
                continue
            }
            remaining &-= sector &+ 1 &- next
            next = sector &+ 1 == count ? 0 : sector &+ 1
            if isAvoided(sector, avoid) { continue }
            let empty = sectors.isEmpty(sector)
            if !empty {
                let reclaimable = sectors.recoverableBytes(sector)
                if !forRelocation || reclaimable == 0 { return sector }
                if mostReclaimable.map({ sectors.recoverableBytes($0) < reclaimable }) ?? true {
                    mostReclaimable = sector
                }
            }
            if empty {
                if firstEmpty == nil { firstEmpty = sector } else if !forRelocation { secondEmptySeen = true }
            }
        }
        if let firstEmpty, forRelocation || secondEmptySeen {
            sectors.lastNewSector = firstEmpty
            return firstEmpty
        }
        return forRelocation ? mostReclaimable : nil
    }

    /// The sector to collect next (pw_kvs `FindSectorToGarbageCollect`), in
    /// rotation order after `lastNewSector`: the first holding only stale
    /// data; else the one with the most reclaimable bytes; else, if
    /// `movingLiveData`, the one with the most valid bytes (to move live
    /// data out of the way of a write). O(sectors).
    func sectorToCollect(avoiding avoid: AvoidList, movingLiveData: Bool) -> Int? {
        let count = partition.sectorCount
        var next = sectors.lastNewSector
        var mostReclaimable: Int? = nil, reclaimableBest = 0
        var mostValid: Int? = nil, validBest = 0
        // One pass in rotation order: the first fully stale sector wins at
        // once; the other two choices keep the first of equals.
        for _ in 0..<count {
            next = next &+ 1 == count ? 0 : next &+ 1
            let valid = sectors.validBytes(next), reclaimable = sectors.recoverableBytes(next)
            guard reclaimable > reclaimableBest || valid > validBest || (valid == 0 && reclaimable > 0),
                  !isAvoided(next, avoid) else { continue }
            if valid == 0 && reclaimable > 0 { return next }
            if reclaimable > reclaimableBest { (mostReclaimable, reclaimableBest) = (next, reclaimable) }
            if valid > validBest { (mostValid, validBest) = (next, valid) }
        }
        return mostReclaimable ?? (movingLiveData ? mostValid : nil)
    }

    /// Collects one sector chosen by ``sectorToCollect(avoiding:movingLiveData:)``.
    /// - Throws: `.notFound` if there is nothing to collect; otherwise as
    ///   ``garbageCollectSector(_:avoiding:)``.
    func garbageCollect(avoiding avoid: AvoidList, movingLiveData: Bool = true) throws(KVSError) {
        guard let sector = sectorToCollect(avoiding: avoid, movingLiveData: movingLiveData) else { throw .notFound }
        try garbageCollectSector(sector, avoiding: avoid)
    }

    /// Garbage-collects every corrupt sector not avoided, counting each
    /// one collected in `corruptSectorsRecovered`.
    /// - Returns: the first error (a later one replaces `.resourceExhausted`), or nil.
    func collectCorruptSectors(avoiding avoid: AvoidList) -> KVSError? {
        var recorded: KVSError? = nil
        for sector in 0..<partition.sectorCount where sectors.isCorrupt(sector) && !isAvoided(sector, avoid) {
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
            guard let destinationSector = findSpace(
                size: entry.header.entrySize, forRelocation: true, avoiding: relocationAvoid)
            else { throw .resourceExhausted }
            let destination = sectors.nextWritableAddress(destinationSector)
            do {
                try copyEntry(entry.header, from: entry.address, toSectorAt: destination)
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
