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
            stale data. Corrupt bytes that held no current key are erased. Reports what changed, \
            keys lost or changed, and what could not be fixed (exit status 5 then). An image \
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
        let (flash, configuration) = try ImageAccess.openFlash(image, options, mode: .readWrite)
        defer { try? flash.flush() }
        let before = try ImageAccess.inspect(flash, configuration)
        let session = try ImageAccess.makeSession(flash, configuration, writable: true, path: image)
        guard session.initializationError != nil || before.storeDetectsErrors else {
            Output.write("'\(image)' has no errors the store can repair; nothing changed\n")
            Self.reportUnrepairable(before.problems)
            return
        }
        if session.store.lastScan.holdsUnindexedData && !discardUnindexed,
           let problem = ImageAccess.problem(of: session, path: image) {
            throw CLIError(.configurationMismatch, problem.message + "; nothing was changed (repair "
                + "--discard-unindexed erases that data)")
        }
        let contentsBefore = (try? session.store.contents()) ?? []
        var maintenanceError: KVSError? = nil
        do {
            if session.store.lastScan.holdsUnindexedData {
                try session.store.repairDiscardingUnindexedData()
                // A new scan, so that maintenance sees what is left.
                try session.reinitialize()
                if session.store.lastScan.holdsUnindexedData {
                    throw CLIError(.corruptImage, "repair of '\(image)' could not discard the data the store cannot "
                        + "index (\(StatsCommand.scanSummary(session.store.lastScan)))")
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
            throw CLIError(.ioError, "repairing '\(image)': I/O error: \(errno.description)")
        }
        let store = session.store
        let after = try ImageAccess.inspect(flash, configuration)
        let contentsAfter = (try? store.contents()) ?? []
        try ImageAccess.close(session)

        let stats = store.storageStats
        var lines = ["repaired '\(image)':"]
        lines.append("  problems before: \(before.problems.count), after: \(after.problems.count)")
        lines.append("  corrupt sectors recovered: \(stats.corruptSectorsRecovered)")
        lines.append("  keys given back missing copies: \(stats.missingRedundantEntriesRecovered)")
        lines.append("  sectors erased: \(flash.counters.sectorsErased), bytes written: \(flash.counters.bytesWritten)")
        lines.append("  corrupt bytes: \(Self.corruptBytes(before)) -> \(Self.corruptBytes(after))")
        let dropped = before.entries.filter { $0.state == .corrupt }
        if !dropped.isEmpty {
            let keys = dropped.compactMap(\.key).map(displayKey)
            lines.append("  unreadable entries (their data was already lost): \(dropped.count)"
                + (keys.isEmpty ? "" : "; their keys as stored: " + keys.joined(separator: ", ")))
        }
        let valuesAfter = Dictionary(contentsAfter.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let lost = contentsBefore.filter { valuesAfter[$0.key] == nil }.map { displayKey($0.key) }
        let changed = contentsBefore.filter { item in valuesAfter[item.key].map { $0 != item.value } ?? false }
            .map { displayKey($0.key) }
        lines.append("  keys: \(contentsBefore.count) -> \(contentsAfter.count); lost: "
            + (lost.isEmpty ? "none" : lost.joined(separator: ", ")) + "; changed: "
            + (changed.isEmpty ? "none" : changed.joined(separator: ", ")))
        Output.write(lines.joined(separator: "\n") + "\n")
        if map {
            Output.write(SectorMap.text(
                after, title: image, style: Output.standardOutputTakesColor ? .ansi : .plain,
                eraseCounts: flash.eraseCounts))
        }
        let remaining = after.problems.filter(\.isDetectedByStore)
        if let maintenanceError {
            throw CLIError(.corruptImage, "repair of '\(image)' stopped: maintenance failed with "
                + "\(maintenanceError.name); \(remaining.count) problems remain")
        }
        guard remaining.isEmpty else {
            for problem in remaining { Output.write("  remaining \(problem.kind.rawValue): \(problem.message)\n") }
            throw CLIError(.corruptImage, "repair of '\(image)' left \(remaining.count) problems")
        }
        Self.reportUnrepairable(after.problems)
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
