// The store's invariants, checked against flash: for tests, the power-loss
// sweep and debug builds. Nothing here runs on the store's own paths, so
// firmware that never calls it links none of it.

extension KeyValueStore {
    /// Checks the tables against each other and against flash, and returns
    /// one line per broken invariant (empty when all hold):
    /// - every key has 1 to `redundancy` copies, in distinct sectors, each
    ///   of which reads, parses and verifies, with the key's transaction
    ///   id, key length, key hash and deleted flag;
    /// - each sector's valid bytes are the sum of the copies in it;
    /// - no two keys share a hash; the deleted count matches the flags; the
    ///   transaction count is at least every key's; the key table has its
    ///   hash index exactly when the capacity is over 64;
    /// - every sector that is not corrupt is erased from its next writable
    ///   address on (empty sectors the init scan did not read through are
    ///   left out);
    /// - a ready store has an erased sector.
    ///
    /// Call it on a store that is not `.notInitialized`.
    /// - Complexity: reads every copy and every sector's writable tail.
    public func invariantViolations() -> [String] {
        var violations: [String] = []
        var validBytes = [Int](repeating: 0, count: sectors.count)
        var deleted = 0
        for descriptor in 0..<keyTable.count {
            let count = keyTable.addressCount(descriptor)
            if count == 0 || count > redundancy { violations.append("key \(descriptor): \(count) copies") }
            if keyTable.find(hash: keyTable.hash(descriptor)) != descriptor {
                violations.append("key \(descriptor): its hash finds another key")
            }
            if keyTable.isDeleted(descriptor) { deleted &+= 1 }
            if keyTable.transactionID(descriptor) > lastTransactionID {
                violations.append("key \(descriptor): transaction id above the transaction count")
            }
            for copy in 0..<count {
                let address = keyTable.address(descriptor, copy: copy)
                let sector = sectors.sector(of: address)
                for other in 0..<copy where sectors.sector(of: keyTable.address(descriptor, copy: other)) == sector {
                    violations.append("key \(descriptor): two copies in sector \(sector)")
                }
                guard let (entry, keyHash) = try? Entry.load(at: address, in: io) else {
                    violations.append("key \(descriptor) copy \(copy) at \(address): does not load and verify")
                    continue
                }
                let header = entry.header
                if keyHash != keyTable.hash(descriptor) || Int(header.keyLength) != keyTable.keyLength(descriptor)
                    || header.transactionID != keyTable.transactionID(descriptor)
                    || header.isTombstone != keyTable.isDeleted(descriptor) {
                    violations.append("key \(descriptor) copy \(copy) at \(address): differs from the key table")
                }
                validBytes[sector] &+= header.entrySize
            }
        }
        if (keyTable.indexed != nil) != (capacity > KeyTable.linearSearchLimit) {
            violations.append("hash index \(keyTable.indexed != nil ? "installed" : "missing") for capacity \(capacity)")
        }
        if deleted != keyTable.deletedCount { violations.append("deleted count \(keyTable.deletedCount), flags \(deleted)") }
        for sector in 0..<sectors.count {
            if validBytes[sector] != sectors.validBytes(sector) {
                violations.append("sector \(sector): valid \(sectors.validBytes(sector)), copies \(validBytes[sector])")
            }
            guard !sectors.isCorrupt(sector), !sectors.isUnverifiedEmpty(sector) else { continue }
            let tail = sectors.nextWritableAddress(sector)
            if (try? io.isErased(from: tail, to: sectors.base(of: sector) &+ sectorSize)) != true {
                violations.append("sector \(sector): not erased from its writable address \(tail)")
            }
        }
        if state == .ready && !sectors.hasEmptySector { violations.append("ready without an erased sector") }
        if !sectors.partlyWrittenBitsMatchCounts { violations.append("partly-written bitmap differs from the counts") }
        return violations
    }
}
