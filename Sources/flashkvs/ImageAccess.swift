import FlashKVS
import FlashKVSTools

/// Opening image files as flash and as stores, with the tool's rules:
/// read-only commands open the file `O_RDONLY`, a read-only partition and
/// manual recovery (nothing can be written); writing commands refuse an
/// image with unrepaired errors.
enum ImageAccess {
    /// Opens an existing image and checks the geometry against the store's
    /// limits.
    /// - Throws: `CLIError` (`.ioError` missing file or no permission,
    ///   `.configurationMismatch` size versus geometry, `.badArgument`).
    static func openFlash(
        _ path: String, _ options: ImageOptions, mode: FileFlash.AccessMode
    ) throws(CLIError) -> (FileFlash, StoreConfiguration) {
        var configuration = try options.configuration()
        let flash: FileFlash
        do {
            flash = try FileFlash(
                openingImageAt: path, sectorSize: configuration.sectorSize, sectorCount: configuration.sectorCount,
                alignment: configuration.alignment, mode: mode)
        } catch {
            throw CLIError.file(error)
        }
        configuration.sectorCount = flash.sectorCount
        do {
            try configuration.validate()
        } catch {
            throw CLIError(.configurationMismatch, "'\(path)' holds \(flash.sectorCount) sectors of "
                + "\(flash.sectorSize) bytes, which this configuration cannot use: \(error.description)")
        }
        return (flash, configuration)
    }

    /// Opens an image read-only as a store. Unrepaired errors are reported
    /// with a warning on standard error; reads still work.
    static func openForReading(_ path: String, _ options: ImageOptions) throws(CLIError) -> StoreSession<FileFlash> {
        let (flash, configuration) = try openFlash(path, options, mode: .readOnly)
        let session = try makeSession(flash, configuration, writable: false, path: path)
        if let problem = problem(of: session, path: path) { Output.warning(problem.message) }
        return session
    }

    /// Opens an image read-write as a store, creating an erased image
    /// first when the file does not exist and `createIfMissing`.
    /// - Parameter allowErrors: accept an image with unrepaired errors
    ///   (maintenance and repair); otherwise it is `.corruptImage`.
    static func openForWriting(
        _ path: String, _ options: ImageOptions, createIfMissing: Bool, allowErrors: Bool = false
    ) throws(CLIError) -> StoreSession<FileFlash> {
        if createIfMissing && !FileAccess.exists(path) {
            guard options.sectorCount != nil else {
                throw CLIError(.ioError, "'\(path)' does not exist; give --sectors N to create it")
            }
            try create(path, options, overwrite: false)
        }
        let (flash, configuration) = try openFlash(path, options, mode: .readWrite)
        let session = try makeSession(flash, configuration, writable: true, path: path)
        if let problem = problem(of: session, path: path), !allowErrors || problem.status == .configurationMismatch {
            throw problem
        }
        return session
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
            return CLIError(.configurationMismatch, "'\(path)' holds \(scan.entriesNotLoaded) entries of keys beyond "
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

    /// Creates an erased image with the options' geometry (`--sectors` required).
    @discardableResult
    static func create(_ path: String, _ options: ImageOptions, overwrite: Bool) throws(CLIError) -> FileFlash {
        let configuration = try options.configuration()
        guard let sectorCount = configuration.sectorCount else {
            throw CLIError(.badArgument, "creating '\(path)' needs --sectors N")
        }
        do {
            return try FileFlash.create(
                at: path, geometry: FlashGeometry(
                    sectorSize: configuration.sectorSize, sectorCount: sectorCount, alignment: configuration.alignment),
                overwrite: overwrite)
        } catch {
            throw CLIError.file(error)
        }
    }

    /// Flushes and closes a written image.
    /// - Throws: `CLIError` `.ioError`.
    static func close(_ session: StoreSession<FileFlash>) throws(CLIError) {
        do { try session.flash.close() } catch { throw CLIError.file(error) }
    }

    /// Opens a store over an open image with manual recovery (the tool
    /// never repairs unasked), mapping the store's errors.
    static func makeSession(
        _ flash: FileFlash, _ configuration: StoreConfiguration, writable: Bool, path: String
    ) throws(CLIError) -> StoreSession<FileFlash> {
        do {
            return try StoreSession(flash: flash, configuration: configuration, writable: writable, recovery: .manual)
        } catch {
            throw CLIError.store(error, "opening '\(path)'", image: path, flash: flash)
        }
    }

    /// Inspects an open flash, mapping read failures.
    static func inspect(_ flash: FileFlash, _ configuration: StoreConfiguration) throws(CLIError) -> ImageInspection {
        do {
            return try ImageInspector.inspect(flash, configuration: configuration)
        } catch {
            throw CLIError.store(error, "reading '\(flash.path)'", image: flash.path, flash: flash)
        }
    }
}
