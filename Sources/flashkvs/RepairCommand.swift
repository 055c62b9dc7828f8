import ArgumentParser
import FlashKVS
import FlashKVSTools

struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair", abstract: "Repair an image: recovery, then full maintenance; report what changed.",
        discussion: """
            Does nothing to a clean image. Otherwise runs the store's full maintenance, which \
            garbage-collects corrupt sectors (moving the keys they hold, then erasing them), \
            makes sure an erased sector exists, restores missing redundant copies and collects \
            stale data. Corrupt bytes that held no current key are erased. A batch a power cut \
            left torn (see verify) is rolled back, as a store with batches enabled does at init. \
            Reports what changed, \
            keys lost or changed, and what could not be fixed (exit status 5 then, and the image \
            is left unchanged: the repair runs on a copy that replaces the image only when it \
            succeeds). An image \
            holding data the store cannot index (keys beyond --max-entries, entries of another \
            format, or nothing parsing with --magic/--checksum) is left untouched (exit status \
            6) unless --discard-unindexed is given: that erases such data.
            """)

    @Argument(help: "The image file.") var image: String
    @Flag(help: "Print the sector map after repairing, with this run's erase counts.") var map = false
    @Flag(name: .customLong("discard-unindexed"),
          help: "Also erase data the store cannot index (keys beyond --max-entries, unrecognized bytes).")
    var discardUnindexed = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let update = try ImageAccess.copy(image, options, createIfMissing: false)
        let flash = update.flash
        var configuration = try options.configuration()
        try ImageAccess.check(&configuration, flash, path: image)
        let before = try ImageAccess.inspect(flash, configuration, path: image)
        // The values as the image reads before a torn batch is rolled back
        // (the writable store rolls it back as it opens).
        let tornContents = before.tornBatch == nil ? nil
            : (try? ImageAccess.makeSession(flash, configuration, writable: false, path: image).store.contents())
        let session = try ImageAccess.makeSession(flash, configuration, writable: true, path: image)
        guard session.initializationError != nil || before.storeDetectsErrors || before.tornBatch != nil else {
            update.discard()
            Output.write("'\(image)' has no errors the store can repair; nothing changed\n")
            Self.reportUnrepairable(before.problems)
            return
        }
        if session.store.lastScan.holdsUnindexedData && !discardUnindexed,
           let problem = ImageAccess.problem(of: session, path: image) {
            throw CLIError(.configurationMismatch, problem.message + "; nothing was changed (repair "
                + "--discard-unindexed erases that data)")
        }
        let unchanged = "; '\(image)' is unchanged"
        let contentsBefore = tornContents ?? (try? session.store.contents()) ?? []
        var maintenanceError: KVSError? = nil
        do {
            if session.store.lastScan.holdsUnindexedData {
                try session.store.repairDiscardingUnindexedData()
                // A new scan, so that maintenance sees what is left.
                try session.reinitialize()
                if session.store.lastScan.holdsUnindexedData {
                    throw CLIError(.corruptImage, "repair of '\(image)' could not discard the data the store cannot "
                        + "index (\(StatsCommand.scanSummary(session.store.lastScan)))" + unchanged)
                }
            }
            if session.initializationError != nil { try session.store.fullMaintenance() }
        } catch let error as CLIError {
            throw error
        } catch let error as KVSError {
            maintenanceError = error
        } catch {
            throw CLIError(.internalError, "\(error)")
        }
        if maintenanceError == .unavailable, let errno = flash.lastIOError {
            throw CLIError(.ioError, "repairing '\(image)': I/O error: \(errno.description)" + unchanged)
        }
        let store = session.store
        let after = try ImageAccess.inspect(flash, configuration, path: image)
        let remaining = after.problems.filter(\.isDetectedByStore)
        if let maintenanceError {
            throw CLIError(.corruptImage, "repair of '\(image)' stopped: maintenance failed with "
                + "\(maintenanceError.name); \(counted(remaining.count, "problem")) would remain" + unchanged)
        }
        guard remaining.isEmpty else {
            for problem in remaining { Output.write("  remaining \(problem.kind.rawValue): \(problem.message)\n") }
            throw CLIError(.corruptImage, "repair of '\(image)' could not fix \(counted(remaining.count, "problem"))"
                + unchanged)
        }
        let contentsAfter = (try? store.contents()) ?? []
        let (sectorsErased, bytesWritten, eraseCounts) =
            (flash.counters.sectorsErased, flash.counters.bytesWritten, flash.eraseCounts)
        Progress.clear()
        do { try update.commit() } catch { throw CLIError.file(error) }

        let stats = store.storageStats
        var lines = ["repaired '\(image)':"]
        lines.append("  problems before: \(before.problems.count), after: \(after.problems.count)")
        lines.append("  corrupt sectors recovered: \(stats.corruptSectorsRecovered)")
        lines.append("  keys given back missing copies: \(stats.missingRedundantEntriesRecovered)")
        lines.append("  sectors erased: \(sectorsErased), bytes written: \(bytesWritten)")
        lines.append("  corrupt bytes: \(Self.corruptBytes(before)) -> \(Self.corruptBytes(after))")
        if let torn = before.tornBatch {
            lines.append("  torn \(torn.name) rolled back: " + (torn.rollback.isEmpty ? "no member was applied"
                : torn.rollback.map { displayKey($0.key) }.joined(separator: ", ")))
        }
        let dropped = before.entries.filter { $0.state == .corrupt }
        if !dropped.isEmpty {
            let keys = dropped.compactMap(\.key).map(displayKey)
            lines.append("  unreadable entries (their data was already lost): \(dropped.count)"
                + (keys.isEmpty ? "" : "; their keys as stored: " + keys.joined(separator: ", ")))
        }
        lines.append("  " + Self.keySummary(before: before, contentsBefore, after: contentsAfter))
        Output.write(lines.joined(separator: "\n") + "\n")
        if map {
            Output.write(SectorMap.text(
                after, title: image, style: Output.standardOutputTakesColor ? .ansi : .plain, eraseCounts: eraseCounts))
        }
        Self.reportUnrepairable(after.problems)
    }

    /// `keys: N -> M; lost: ...; changed: ...`. Keys whose newest entry was
    /// corrupt count as keys before the repair and are named as lost: their
    /// newest value (or, with no older one kept, the key) did not survive.
    static func keySummary(
        before: ImageInspection, _ contentsBefore: [(key: [UInt8], value: [UInt8])],
        after contentsAfter: [(key: [UInt8], value: [UInt8])]
    ) -> String {
        let valuesAfter = Dictionary(contentsAfter.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let corrupt = before.keysWithCorruptNewestEntry
        var lost = corrupt.map { key in
            displayKey(key.key) + (key.olderValueKept && valuesAfter[key.key] != nil
                ? " (its newest value was corrupt; an older one is kept)" : " (its entry was corrupt)")
        }
        lost += contentsBefore.filter { item in valuesAfter[item.key] == nil && !corrupt.contains { $0.key == item.key } }
            .map { displayKey($0.key) }
        let changed = contentsBefore.filter { item in valuesAfter[item.key].map { $0 != item.value } ?? false }
            .map { displayKey($0.key) }
        let keysBefore = contentsBefore.count + corrupt.count { !$0.olderValueKept }
        return "keys: \(keysBefore) -> \(contentsAfter.count); lost: " + (lost.isEmpty ? "none" : lost.joined(separator: ", "))
            + "; changed: " + (changed.isEmpty ? "none" : changed.joined(separator: ", "))
    }

    private static func corruptBytes(_ inspection: ImageInspection) -> Int {
        inspection.sectors.reduce(0) { $0 + $1.corruptBytes }
    }

    /// Lists problems the store does not repair (hidden data, alignment).
    private static func reportUnrepairable(_ problems: [ImageProblem]) {
        for problem in problems where !problem.isDetectedByStore {
            Output.write("  not repaired by the store: \(problem.kind.rawValue): \(problem.message)\n")
        }
    }
}
