// Code size: `roomAfterRelease` is rarely run and kept out of the put
// path (`@inline(never)`); `reserveAddresses` is inlined into its callers
// on devices (`@inline(__always)`; writeEntry in the minimal image);
// Docs/EMBEDDED.md, "Code size".
//
// Room for new entries: a sector per copy, garbage-collecting as the
// options allow (writes, format migration and restored copies use it).
// Calls down into garbage collection and the primitives.

extension KeyValueStore {
    /// Reserves in `reserved` one address per copy for an entry of
    /// `size` bytes, each in a different sector, garbage-collecting as
    /// allowed. For a new version of a key whose current version (`prior`:
    /// its descriptor and entry size) is on flash, it may stop early, with at least the first
    /// copy reserved, when the other copies fit only once the prior
    /// version's copies are released: a value large next to the sectors
    /// that every sector's live data leaves no room for beside the old
    /// copies. Stopping early is allowed only when each missing copy has a
    /// sector of its own holding a prior copy that, with that copy
    /// released, has room for `size` bytes, and an erased sector exists:
    /// garbage collection can then empty such a sector into the erased one
    /// after the commit (pw_kvs refuses these writes).
    /// - Returns: the number of copies reserved.
    /// - Throws: as ``sectorForWrite(size:reservedCount:avoidingCopiesOf:)``.
    #if $Embedded
    @inline(__always)
    #endif
    func reserveAddresses(size: Int, replacing prior: (descriptor: Int, entrySize: Int)?) throws(KVSError) -> Int {
        for copy in 0..<redundancy {
            do throws(KVSError) {
                let sector = try sectorForWrite(size: size, reservedCount: copy)
                reserved[copy] = sectors.nextWritableAddress(sector)
            } catch {
                guard error == .resourceExhausted, copy > 0, let prior,
                      roomAfterRelease(of: prior.descriptor, entrySize: prior.entrySize, for: size, reservedCount: copy)
                        >= redundancy &- copy
                else { throw error }
                return copy
            }
        }
        return redundancy
    }

    /// How many sectors holding a copy of `descriptor` (of `entrySize`
    /// bytes), none of the first `reservedCount` reserved addresses',
    /// would have room for `size` bytes once that copy is released; 0
    /// without an erased sector to collect them into. O(redundancy²).
    @inline(never)
    private func roomAfterRelease(of descriptor: Int, entrySize: Int, for size: Int, reservedCount: Int) -> Int {
        guard sectors.hasEmptySector else { return 0 }
        let avoid = AvoidList(reservedCount: reservedCount)
        var count = 0
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            copy &+= 1
            let sector = sectors.sector(of: address)
            if !placement.isAvoided(sector, avoid) && sectors.validBytes(sector) &- entrySize &+ size <= sectorSize {
                count &+= 1
            }
        }
        return count
    }

    /// A sector with room for `size` bytes (pw_kvs `GetSectorForWrite`),
    /// avoiding the first `reservedCount` reserved addresses' sectors (and,
    /// if given, `descriptor`'s copies), garbage-collecting per the options.
    /// - Throws: `.resourceExhausted` if no space can be made; a collection error.
    func sectorForWrite(size: Int, reservedCount: Int, avoidingCopiesOf descriptor: Int? = nil) throws(KVSError) -> Int {
        let avoid = AvoidList(reservedCount: reservedCount, descriptor: descriptor)
        var result = findSpace(size: size, avoiding: avoid)
        var rounds = 0
        var collectMore = options.garbageCollectionOnWrite != .disabled
        var repairedCorruptSectors = false
        while result == nil && collectMore {
            if options.garbageCollectionOnWrite == .oneSector { collectMore = false }
            do throws(KVSError) {
                try garbageCollect(avoiding: avoid)
            } catch .notFound {
                throw .resourceExhausted
            } catch .resourceExhausted where !repairedCorruptSectors && options.recovery != .manual {
                // Stuck: a failed copy or erase may have used up the erased
                // sector (make one from duplicates), and corrupt sectors
                // (e.g. debris of an interrupted erase found by an earlier
                // write) hold space: repair them, which may drop copies that
                // live on elsewhere. pw_kvs gives up here.
                repairedCorruptSectors = true
                let recoveredBefore = corruptSectorsRecovered
                let madeErased = !sectors.hasEmptySector
                    && ((try? eraseSectorHoldingOnlyDuplicates(avoiding: avoid)) ?? false)
                _ = collectCorruptSectors(avoiding: avoid)
                guard madeErased || corruptSectorsRecovered != recoveredBefore else { throw .resourceExhausted }
            }
            result = findSpace(size: size, avoiding: avoid)
            rounds &+= 1
            if rounds > partition.sectorCount &+ 2 { throw .resourceExhausted }
        }
        guard let result else { throw .resourceExhausted }
        return result
    }
}
