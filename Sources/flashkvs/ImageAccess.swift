import FlashKVS
import FlashKVSTools

/// Opening image files as flash and as stores, with the tool's rules:
/// read-only commands open the file `O_RDONLY`, a read-only partition and
/// manual recovery (nothing can be written); writing commands work on a
/// copy that replaces the image only when the command succeeds, and
/// refuse an image with unrepaired errors.
enum ImageAccess {
    /// Opens an existing image read-only and checks the geometry against
    /// the store's limits.
    /// - Throws: `CLIError` (`.ioError` missing file or no permission,
    ///   `.configurationMismatch` size versus geometry, `.badArgument`).
    static func openFlash(_ path: String, _ options: ImageOptions) throws(CLIError) -> (FileFlash, StoreConfiguration) {
        var configuration = try options.configuration()
        let flash: FileFlash
        do {
            flash = try FileFlash(
                openingImageAt: path, sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount,
                alignment: configuration.alignment, offset: options.fileOffset, mode: .readOnly)
        } catch {
            throw CLIError.file(error)
        }
        try check(&configuration, flash, path: path)
        flash.observeForTool()
        return (flash, configuration)
    }

    /// Takes the sector count from the file and checks the configuration can use it.
    static func check(
        _ configuration: inout StoreConfiguration, _ flash: FileFlash, path: String
    ) throws(CLIError) {
        configuration.sectorCount = flash.sectorCount
        do {
            try configuration.validate()
        } catch {
            throw CLIError(.configurationMismatch, "'\(path)' holds \(counted(flash.sectorCount, "sector")) of "
                + "\(flash.sectorSize) bytes, which this configuration cannot use: \(error.description)")
        }
    }

    /// What a read-only command answering from the store checks first.
    enum Completeness {
        /// Data the command cannot show (status 10).
        case unreadableData
        /// That, and keys whose newest value is corrupt (status 11).
        case unreadableDataAndDataLoss
    }

    /// Opens an image read-only as a store, with its inspection. Unless
    /// `partial`, fails when the image holds data that `command` cannot
    /// show (`.incomplete`) or, with `.unreadableDataAndDataLoss`, values
    /// that are lost (`.dataLoss`); with `partial` these are warnings.
    /// Other unrepaired errors are reported with a warning (but by `get`,
    /// whose answer for its key is right or fails).
    static func openForReading(
        _ path: String, _ options: ImageOptions, command: String, checking completeness: Completeness, partial: Bool
    ) throws(CLIError) -> (StoreSession<FileFlash>, ImageInspection) {
        let (flash, configuration) = try openFlash(path, options)
        let inspection = try inspect(flash, configuration, path: path)
        let session = try makeSession(flash, configuration, writable: false, path: path)
        var failures: [CLIError] = []
        let rest = partial ? "" : ", --partial shows the rest"
        let unreadable = inspection.unreadableDataProblems
        if let first = unreadable.first {
            let more = unreadable.count > 1 ? " (and \(counted(unreadable.count - 1, "other problem")))" : ""
            failures.append(CLIError(.incomplete, "'\(path)' holds data that '\(command)' cannot show with these "
                + "options: \(first.kind.rawValue): \(first.message)\(more); 'flashkvs verify \(path)' tells more\(rest)"))
        }
        if completeness == .unreadableDataAndDataLoss, var loss = dataLoss(inspection, path: path) {
            loss.message += rest
            failures.append(loss)
        }
        if let failure = failures.first, !partial { throw failure }
        for failure in failures { Output.warning(failure.message) }
        if let torn = inspection.tornBatch { Output.warning(tornBatchWarning(torn, path: path)) }
        // get answers for one key: its answer is right, or it fails itself.
        if failures.isEmpty, command != "get", session.initializationError != nil {
            Output.warning("'\(path)' has errors the store has not repaired (\(StatsCommand.scanSummary(session.store.lastScan))); "
                + "'flashkvs verify \(path)' shows them")
        }
        return (session, inspection)
    }

    /// The warning of a read-only command about a torn batch: it answers
    /// from the image as it is (the batch partly applied), which a device
    /// with batches enabled rolls back at its next init.
    static func tornBatchWarning(_ batch: InspectedBatch, path: String) -> String {
        let keys = batch.rollback.map { displayKey($0.key) }
        return "'\(path)' holds a torn \(batch.name) (no commit record): this shows it partly applied, as pw_kvs "
            + "reads it; a store with batches enabled rolls it back at init"
            + (keys.isEmpty ? "" : " (" + keys.joined(separator: ", ") + ")")
            + "; 'flashkvs verify \(path)' tells more, 'flashkvs repair \(path)' rolls it back"
    }

    /// The keys whose newest value is corrupt, and corrupt entries whose
    /// key cannot be read, as a `.dataLoss` failure; nil when there are none.
    static func dataLoss(_ inspection: ImageInspection, path: String) -> CLIError? {
        let keys = inspection.keysWithCorruptNewestEntry
        let unnamed = inspection.entries.count { $0.state == .corrupt && $0.key == nil }
        guard !keys.isEmpty || unnamed > 0 else { return nil }
        var lost: [String] = []
        if !keys.isEmpty {
            lost.append("the newest value of " + keys.map { displayKey($0.key) }.joined(separator: ", ")
                + (keys.count == 1 ? " is" : " are") + " corrupt")
        }
        if unnamed > 0 {
            lost.append(counted(unnamed, "corrupt entry", plural: "corrupt entries") + " whose key cannot be read")
        }
        return CLIError(.dataLoss, "'\(path)': data loss: " + lost.joined(separator: "; ")
            + "; 'flashkvs verify \(path)' tells where, 'flashkvs repair \(path)' drops what cannot be read")
    }

    /// An image being changed: a store over a copy of the image (see
    /// `ImageUpdate`), which ``finish()`` puts in the image's place.
    struct Edit {
        let path: String
        let update: ImageUpdate
        let session: StoreSession<FileFlash>
        var flash: FileFlash { update.flash }
        var store: KeyValueStore<FileFlash> { session.store }

        /// Whether anything was written or erased on the copy.
        var changed: Bool { update.createsImage || flash.counters.writeCalls > 0 || flash.counters.eraseCalls > 0 }

        /// Replaces the image with the changed copy (flushed first); a copy
        /// with no change is dropped, leaving the image as it was, file
        /// times included.
        /// - Throws: `.ioError`.
        func finish() throws(CLIError) {
            Progress.clear()
            guard changed else { return update.discard() }
            do { try update.commit() } catch { throw CLIError.file(error) }
        }
    }

    /// Starts a change of an image: a copy of it (or, when the file does
    /// not exist and `createIfMissing`, an erased image of the options'
    /// geometry) opened read-write as a store.
    /// - Parameter allowErrors: accept an image with unrepaired errors
    ///   (maintenance and repair); otherwise it is `.corruptImage`.
    static func edit(
        _ path: String, _ options: ImageOptions, createIfMissing: Bool, allowErrors: Bool = false
    ) throws(CLIError) -> Edit {
        let update = try copy(path, options, createIfMissing: createIfMissing)
        var configuration = try options.configuration()
        try check(&configuration, update.flash, path: path)
        let session = try makeSession(update.flash, configuration, writable: true, path: path)
        if let problem = problem(of: session, path: path), !allowErrors || problem.status == .configurationMismatch {
            throw problem
        }
        // With manual recovery, initialization writes only to roll back a torn batch.
        if update.flash.counters.writeCalls > 0 {
            Output.warning("'\(path)' held a torn batch (no commit record): it is rolled back first, as a store "
                + "with batches enabled does at init")
        }
        return Edit(path: path, update: update, session: session)
    }

    /// A copy of the image at `path` to change (see `ImageUpdate`).
    static func copy(_ path: String, _ options: ImageOptions, createIfMissing: Bool) throws(CLIError) -> ImageUpdate {
        let configuration = try options.configuration()
        if createIfMissing && !FileAccess.exists(path) && configuration.sectorCount == nil {
            throw CLIError(.ioError, "'\(path)' does not exist; give --sectors N to create it")
        }
        let update: ImageUpdate
        do {
            update = try ImageUpdate(
                path: path, sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount,
                alignment: configuration.alignment, offset: options.fileOffset, createIfMissing: createIfMissing,
                progress: { done, total in
                    Progress.start(imageBytes: total)
                    Progress.report("copying", done, of: total)
                })
        } catch {
            throw CLIError.file(error)
        }
        update.flash.observeForTool()
        return update
    }

    /// What the store's initialization found wrong, as the error a writing
    /// command fails with: `.configurationMismatch` when the image holds
    /// more keys than `--max-entries`, or data of another format or
    /// configuration (the store then refuses to write or erase anything);
    /// `.corruptImage` for corruption, missing copies or no erased sector.
    static func problem(of session: StoreSession<FileFlash>, path: String) -> CLIError? {
        guard session.initializationError != nil else { return nil }
        let scan = session.store.lastScan
        if scan.entriesNotLoaded > 0 {
            return CLIError(.configurationMismatch, "'\(path)' holds "
                + "\(counted(scan.entriesNotLoaded, "entry", plural: "entries")) of keys beyond "
                + "--max-entries \(session.store.capacity); give a larger --max-entries")
        }
        if scan.unrecognizedData {
            return CLIError(.configurationMismatch, "'\(path)' holds data that does not parse with "
                + "\(session.configuration.formatOptions) --sector-size \(session.configuration.sectorSize) "
                + "(another format?); run 'flashkvs verify \(path)' for hints")
        }
        return CLIError(.corruptImage, "'\(path)' has errors the store has not repaired, so it takes no writes; "
            + "run 'flashkvs verify \(path)' to see them and 'flashkvs repair \(path)' to fix them")
    }

    /// Opens a store over an open image with manual recovery (the tool
    /// never repairs unasked), mapping the store's errors. A writable store
    /// is opened with batches enabled (Docs/BATCHES.md), as a device that
    /// uses them: `apply --atomic` can commit a batch, and a batch a power
    /// cut left torn is rolled back before the command writes anything
    /// else. A read-only store is not (a rollback would write): it reads a
    /// torn batch as pw_kvs does, partly applied, and the commands warn.
    static func makeSession(
        _ flash: FileFlash, _ configuration: StoreConfiguration, writable: Bool, path: String
    ) throws(CLIError) -> StoreSession<FileFlash> {
        do {
            return try StoreSession(
                flash: flash, configuration: configuration, writable: writable, recovery: .manual, batches: writable)
        } catch {
            throw CLIError.store(error, "opening '\(path)'", image: path, flash: flash)
        }
    }

    /// Inspects an open flash, mapping read failures.
    static func inspect(
        _ flash: FileFlash, _ configuration: StoreConfiguration, path: String
    ) throws(CLIError) -> ImageInspection {
        do {
            return try ImageInspector.inspect(flash, configuration: configuration)
        } catch {
            throw CLIError.store(error, "reading '\(path)'", image: path, flash: flash)
        }
    }
}
