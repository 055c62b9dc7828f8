import FlashKVS

extension ImageInspection {
    /// Where the store, initialized over the same flash, disagrees with
    /// this inspection: whether errors were detected, its scan report, key
    /// counts, iteration order, transaction count, the wear-leveling
    /// origin and each sector's usage. Each is an `.inconsistent` problem;
    /// none is expected (one means the inspector and the store apply
    /// different rules: a bug to report).
    /// - Complexity: O(keys + sectors); the store reads one key per
    ///   present key.
    public func disagreements<Flash: FlashMemory>(with session: StoreSession<Flash>) -> [ImageProblem] {
        let store = session.store
        var problems: [ImageProblem] = []
        func check(_ name: String, store storeValue: some Equatable & CustomStringConvertible,
                   inspection inspectionValue: some Equatable & CustomStringConvertible) {
            guard "\(storeValue)" != "\(inspectionValue)" else { return }
            problems.append(ImageProblem(
                .inconsistent, "the store reports \(name) \(storeValue) but the inspection finds \(inspectionValue)"))
        }
        check("errors detected", store: session.initializationError != nil, inspection: storeDetectsErrors)
        let scan = store.lastScan
        check("corrupt entries", store: scan.corruptEntries, inspection: scanCounts.corruptEntries)
        check("corrupt sectors", store: scan.corruptSectors, inspection: scanCounts.corruptSectors)
        check("gaps", store: scan.gapsFound, inspection: scanCounts.gapsFound)
        check("entries not loaded", store: scan.entriesNotLoaded, inspection: scanCounts.entriesNotLoaded)
        check("unrecognized data", store: scan.unrecognizedData,
              inspection: self.problems.contains { $0.kind == .formatMismatch })
        check("keys missing copies", store: scan.keysMissingCopies,
              inspection: keys.count { $0.addresses.count < configuration.redundancy })
        check("no erased sector", store: scan.noErasedSector, inspection: self.problems.contains { $0.kind == .noReserveSector })
        check("present keys", store: store.count, inspection: liveKeyCount)
        check("keys with deleted", store: store.totalEntriesWithDeleted, inspection: keys.count)
        check("transaction count", store: store.transactionCount, inspection: lastTransactionID)
        let stats = store.storageStats
        check("in-use bytes", store: stats.inUseBytes, inspection: inUseBytes)
        check("reclaimable bytes", store: stats.reclaimableBytes, inspection: reclaimableBytes)
        check("writable bytes", store: stats.writableBytes, inspection: writableBytes)
        check("wear-leveling origin", store: store.wearLevelingOrigin, inspection: lastNewSector)
        for sector in sectors {
            let usage = store.usage(ofSector: sector.index)
            let mine = "valid \(sector.validBytes) writable \(sector.writableBytes(sectorSize: sectorSize)) reclaimable "
                + "\(sector.recoverableBytes(sectorSize: sectorSize)) corrupt \(sector.isCorrupt)"
            let theirs = "valid \(usage.validBytes) writable \(usage.writableBytes) reclaimable \(usage.reclaimableBytes) "
                + "corrupt \(usage.isCorrupt)"
            check("for sector \(sector.index)", store: theirs, inspection: mine)
        }
        let storeOrder = store.items.map { Hex.encode($0.key) }
        let inspectionOrder = keys.filter { !$0.isDeleted }.map { Hex.encode($0.key) }
        if storeOrder != inspectionOrder {
            problems.append(ImageProblem(.inconsistent, "the store iterates the keys in another order than the inspection"))
        }
        return problems
    }
}

extension KeyValueStore {
    /// Every present key and its value, in iteration order (allocates).
    /// The batches' reserved key (`BatchRecord.key`) is left out: it is no
    /// user key, and a store without batches shows it only while a torn
    /// batch's intent record is its newest version.
    /// - Throws: the first error reading a key or value (`.dataLoss` for a
    ///   value that fails its checksum, a flash read error).
    public func contents() throws(KVSError) -> [(key: [UInt8], value: [UInt8])] {
        var result: [(key: [UInt8], value: [UInt8])] = []
        for item in items {
            let key = item.key
            if BatchRecord.isReserved(key.span) { continue }
            var value = [UInt8](repeating: 0, count: try valueSize(of: item))
            var span = value.mutableSpan
            try get(item, into: &span)
            result.append((key, value))
        }
        return result
    }
}
