import ArgumentParser
import FlashKVS
import FlashKVSTools

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print the store's statistics and each sector's usage.",
        discussion: """
            The fields follow pw_kvs: size (present keys), total_entries_with_deleted, max_size \
            (key capacity), transaction_count, storage_stats (writable_bytes excludes the erased \
            reserve sector; in_use_bytes; reclaimable_bytes), last_new_sector, and per sector \
            writable_bytes, valid_bytes, recoverable_bytes, corrupt. Fails with status 10 when the \
            image holds data that cannot be read with these options (--partial shows the rest). Read-only.
            """)

    @Argument(help: "The image file.") var image: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var partial: PartialOption
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let (session, inspection) = try ImageAccess.openForReading(
            image, options, command: "stats", checking: .unreadableData, partial: partial.partial)
        let store = session.store
        let stats = store.storageStats
        let sectorSize = inspection.sectorSize
        let scanSummary = Self.scanSummary(store.lastScan)
        if json {
            let sectors = (0..<inspection.sectorCount).map { index in
                let usage = store.usage(ofSector: index)
                return JSON.object([
                    ("index", .int(index)), ("writable_bytes", .int(usage.writableBytes)),
                    ("valid_bytes", .int(usage.validBytes)), ("recoverable_bytes", .int(usage.reclaimableBytes)),
                    ("corrupt", .bool(usage.isCorrupt)),
                ])
            }
            let scan = store.lastScan
            Output.write(JSON.object([
                ("init_status", .string(session.initializationError.map { "\($0.name)" } ?? "OK")),
                ("initialized", .bool(store.state != .notInitialized)),
                ("error_detected", .bool(store.errorDetected)),
                ("size", .int(store.count)),
                ("total_entries_with_deleted", .int(store.totalEntriesWithDeleted)),
                ("max_size", .int(store.capacity)),
                ("redundancy", .int(store.redundancy)),
                ("transaction_count", .int(store.transactionCount)),
                ("max_key_value_size_bytes", .int(store.maxKeyValueSize)),
                ("storage_stats", .object([
                    ("writable_bytes", .int(stats.writableBytes)), ("in_use_bytes", .int(stats.inUseBytes)),
                    ("reclaimable_bytes", .int(stats.reclaimableBytes)),
                    ("sector_erase_count", .int(stats.sectorEraseCount)),
                    ("corrupt_sectors_recovered", .int(stats.corruptSectorsRecovered)),
                    ("missing_redundant_entries_recovered", .int(stats.missingRedundantEntriesRecovered)),
                ])),
                ("geometry", Reports.geometry(session.configuration, sectorCount: inspection.sectorCount)),
                ("last_new_sector", .int(store.wearLevelingOrigin)),
                ("sectors", .array(sectors)),
                ("scan", .object([
                    ("corrupt_entries", .int(scan.corruptEntries)), ("corrupt_sectors", .int(scan.corruptSectors)),
                    ("gaps_found", .int(scan.gapsFound)), ("keys_missing_copies", .int(scan.keysMissingCopies)),
                    ("no_erased_sector", .bool(scan.noErasedSector)),
                    ("entries_not_loaded", .int(scan.entriesNotLoaded)),
                    ("unrecognized_data", .bool(scan.unrecognizedData)),
                ])),
            ]).serialized() + "\n")
            return
        }
        var lines = [
            "'\(image)': \(counted(inspection.sectorCount, "sector")) x \(sectorSize) bytes, "
                + "\(Reports.formats(session.configuration)), alignment \(session.configuration.alignment), "
                + "redundancy \(store.redundancy)",
            "state: " + (store.state == .ready ? "ready" : "needs maintenance: \(scanSummary) (run 'flashkvs verify')"),
            "keys: \(store.count) present, \(store.totalEntriesWithDeleted) with deleted, capacity \(store.capacity)",
            "transaction count: \(store.transactionCount); largest key + value: \(store.maxKeyValueSize) bytes",
            "bytes: \(stats.writableBytes) writable (besides the reserve sector), \(stats.inUseBytes) in use, "
                + "\(stats.reclaimableBytes) reclaimable",
            "sector  writable     valid  reclaimable",
        ]
        for index in 0..<inspection.sectorCount {
            let usage = store.usage(ofSector: index)
            let cells = [
                String(index), String(usage.writableBytes), String(usage.validBytes), String(usage.reclaimableBytes),
            ]
            let widths = [6, 10, 10, 13]
            var line = zip(cells, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }
                .joined()
            if usage.isCorrupt { line += "  corrupt" }
            if index == store.wearLevelingOrigin { line += "  (last new sector)" }
            lines.append(line)
        }
        Output.write(lines.joined(separator: "\n") + "\n")
    }

    /// What the store's scan found, in words ("clean" when nothing).
    static func scanSummary(_ scan: ScanReport) -> String {
        var parts: [String] = []
        if scan.corruptEntries > 0 {
            parts.append(counted(scan.corruptEntries, "corrupt entry", plural: "corrupt entries"))
        }
        if scan.gapsFound > 0 { parts.append(counted(scan.gapsFound, "gap")) }
        if scan.corruptSectors > 0 { parts.append(counted(scan.corruptSectors, "corrupt sector")) }
        if scan.keysMissingCopies > 0 { parts.append(counted(scan.keysMissingCopies, "key") + " missing copies") }
        if scan.noErasedSector { parts.append("no erased sector") }
        if scan.entriesNotLoaded > 0 {
            parts.append(counted(scan.entriesNotLoaded, "entry", plural: "entries") + " beyond --max-entries")
        }
        if scan.unrecognizedData { parts.append("unrecognized data (wrong --magic/--checksum?)") }
        return parts.isEmpty ? "clean" : parts.joined(separator: ", ")
    }
}
