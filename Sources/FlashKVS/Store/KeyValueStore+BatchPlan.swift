// Planning a batch's space before its intent record (Docs/BATCHES.md, "Space").
extension KeyValueStore {
    /// One copy of an entry of `keyLength` and `valueSize` bytes (nil: a
    /// tombstone), aligned.
    func batchEntrySize(keyLength: Int, valueSize: Int?) -> Int {
        alignUp(EntryHeader.size &+ keyLength &+ (valueSize ?? 0), entryAlignment)
    }

    /// Records of a batch, in the order the plan places them: the intent,
    /// the members, the commit, then a rollback of every member and its
    /// resolution record (what init writes after a cut, at worst).
    func batchRecordCount(_ batch: Batch) -> Int {
        var members = 0
        for index in 0..<batch.count where batch.operations[index].isMember { members &+= 1 }
        return 2 &* members &+ 3
    }

    /// One copy of record `record` (see ``batchRecordCount(_:)``).
    func batchRecordSize(_ batch: Batch, _ record: Int) -> Int {
        let members = (batchRecordCount(batch) &- 3) / 2
        if record == 0 { return batchEntrySize(keyLength: 4, valueSize: BatchRecord.valueSize) }
        if record == members &+ 1 || record == 2 &* members &+ 2 { return batchEntrySize(keyLength: 4, valueSize: nil) }
        let restoring = record > members
        var wanted = restoring ? record &- members &- 2 : record &- 1
        for index in 0..<batch.count where batch.operations[index].isMember {
            if wanted == 0 {
                return restoring ? batch.operations[index].restoreSize : batch.operations[index].entrySize
            }
            wanted &-= 1
        }
        return 0
    }

    /// Whether every record of the batch fits, each copy in a distinct
    /// sector, in the sectors' writable space without garbage collection,
    /// with one erased sector kept (the placement a write would choose,
    /// simulated on the sector table and undone). Erases nothing but the
    /// debris ``prepareEmptySector(_:)`` finds. A plan touching more than
    /// 32 sectors counts as not fitting. O(records x redundancy x sectors).
    func batchFits(_ batch: Batch) -> Bool {
        var touched = InlineArray<32, Int>(repeating: 0)
        var original = InlineArray<32, Int>(repeating: 0)
        var touchedCount = 0
        let lastNewSector = sectors.lastNewSector
        var fits = true
        records: for record in 0..<batchRecordCount(batch) {
            let size = batchRecordSize(batch, record)
            for copy in 0..<redundancy {
                guard let sector = findSpace(size: size, avoiding: AvoidList(reservedCount: copy))
                else {
                    fits = false
                    break records
                }
                reserved[copy] = sectors.nextWritableAddress(sector)
            }
            for copy in 0..<redundancy {
                let sector = sectors.sector(of: reserved[copy])
                var seen = false
                for index in 0..<touchedCount where touched[index] == sector { seen = true }
                if !seen {
                    guard touchedCount < 32 else {
                        fits = false
                        break records
                    }
                    touched[touchedCount] = sector
                    original[touchedCount] = sectors.writableBytes(sector)
                    touchedCount &+= 1
                }
                sectors.removeWritable(sector, size)
            }
        }
        for index in 0..<touchedCount { sectors.setWritable(touched[index], original[index]) }
        sectors.lastNewSector = lastNewSector
        return fits
    }
}
