// The full scan of the flash that rebuilds the key and sector tables
// (init and repair). It reads through Entry and writes nothing.

extension KeyValueStore {
    /// An entry the scan read and verified, with the hash of its key.
    typealias ScannedEntry = (entry: Entry<Flash>, keyHash: UInt32)

    /// How the scan treats a sector whose first header is erased.
    enum ScanDepth {
        /// Trusts it to be erased throughout (init; pw_kvs does too); the
        /// sector is checked before its first write
        /// (``prepareEmptySector(_:)``).
        case trustingEmptySectors
        /// Reads it through (repair).
        case checkingEmptySectors
    }

    /// Rebuilds the tables from flash as ``initialize()`` does, trusting
    /// sectors whose first header is erased (see ``scan(_:)``).
    /// - Returns: whether the only problem found is that keys have fewer
    ///   copies than the redundancy.
    /// - Throws: as ``scan(_:)``.
    @discardableResult
    func scanFlash() throws(KVSError) -> Bool {
        try scan(.trustingEmptySectors)
    }

    /// Rebuilds the tables from flash as a repair does, also reading
    /// through sectors whose first header is erased (see ``scan(_:)``).
    /// - Returns: as ``scanFlash()``.
    /// - Throws: as ``scan(_:)``.
    @discardableResult
    func scanFlashCheckingEmptySectors() throws(KVSError) -> Bool {
        try scan(.checkingEmptySectors)
    }

    /// ``rebuildMetadata(_:)``, repeated (twice at most) while flash
    /// reads fail, so that a read error is never taken for corruption.
    /// `errorDetected` reflects the last scan, plus what was known before.
    /// - Returns: whether the only problem found is that keys have fewer
    ///   copies than the redundancy.
    /// - Throws: the read error if the last scan still saw a read fail
    ///   twice; the tables are then incomplete and the store is left
    ///   `.notInitialized` (``initialize()`` again once the flash reads).
    /// - Complexity: reads every entry once per scan (one to three scans).
    private func scan(_ depth: ScanDepth) throws(KVSError) -> Bool {
        let knownErrors = errorDetected
        var result: KVSError?
        var scans = 0
        repeat {
            errorDetected = knownErrors
            result = rebuildMetadata(depth)
            scans &+= 1
        } while lastScan.failedReads > 0 && scans < 3
        lastScan.rescans = scans &- 1
        if lastScan.failedReads > 0 {
            state = .notInitialized
            throw lastReadError
        }
        return result == .outOfRange
    }

    /// Rebuilds the key and sector tables from flash (pw_kvs
    /// `InitializeMetadata`) and fills ``lastScan``. Sets `errorDetected`
    /// for corrupt entries or sectors, gaps, keys that do not fit, missing
    /// copies and a missing erased sector; never clears it.
    /// - Parameter depth: whether to check that sectors whose first header
    ///   is erased are erased throughout (repair does; init trusts them).
    /// - Returns: nil when clean, `.outOfRange` when the only problem is that
    ///   every key has fewer copies than the redundancy, `.failedPrecondition`
    ///   otherwise.
    private func rebuildMetadata(_ depth: ScanDepth) -> KVSError? {
        let sectorCount = partition.sectorCount
        sectors.reset(count: sectorCount)
        keyTable.removeAll()
        lastScan = ScanReport()
        let failedReadsBefore = failedReads
        defer { lastScan.failedReads = failedReads &- failedReadsBefore }
        var foundEmptySector = false
        var parsedEntries = 0
        for sector in 0..<sectorCount {
            parsedEntries &+= scanSector(sector, depth)
            if sectors.isEmpty(sector) { foundEmptySector = true }
        }
        // Nothing parses: another configuration's data, unless all there is
        // could be one interrupted write of this store (a single failed
        // entry whose magic could be a damaged known one).
        let oneTornWrite = lastScan.corruptEntries &+ lastScan.gapsFound == 1 && lastScan.corruptSectors == 1
            && !lastScan.sawUnknownMagic
        if parsedEntries == 0 && lastScan.corruptSectors > 0 && !oneTornWrite {
            lastScan.unrecognizedData = true
        }

        mutable.pointee.tornCopies?.forgetTornKeys(self)

        var keysMissingCopies = 0
        var newestID: UInt32 = 0
        var newestAddress = 0  // in sector 0, the origin when no key has a copy
        for descriptor in 0..<keyTable.count {
            if keyTable.addressCount(descriptor) < redundancy { keysMissingCopies &+= 1 }
            var copy = 0
            while let address = keyTable.addressOfCopy(copy, of: descriptor) {
                let sector = sectors.sector(of: address)
                do {
                    let header = try Entry(readingAt: address, in: io).header
                    sectors.addValid(sector, header.entrySize)
                    copy &+= 1
                } catch {
                    markCorrupt(sector)
                    keyTable.removeAddress(descriptor, copy: copy)  // the last copy takes its slot
                }
            }
            // The newest key's last copy sets the wear-leveling origin. Unlike
            // pw_kvs (spec 7.2 B15) this also holds when a repair rebuilds
            // the tables while the transaction count is kept.
            let id = keyTable.transactionID(descriptor)
            if copy > 0 && id > newestID {
                newestID = id
                newestAddress = keyTable.address(descriptor, copy: copy &- 1)
            }
        }
        lastTransactionID = max(lastTransactionID, newestID)
        sectors.lastNewSector = sectors.sector(of: newestAddress)
        lastScan.keysMissingCopies = keysMissingCopies

        if !foundEmptySector {
            errorDetected = true
            lastScan.noErasedSector = true
        }
        if keysMissingCopies > 0 {
            let otherErrors = errorDetected
            errorDetected = true
            if !otherErrors && keysMissingCopies == keyTable.count { return .outOfRange }
        }
        return errorDetected ? .failedPrecondition : nil
    }
}
