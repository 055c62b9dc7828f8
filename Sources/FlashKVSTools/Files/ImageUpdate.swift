import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A change to an image file that happens whole or not at all.
///
/// The change is made on a copy, a temporary file in the image's folder
/// (``flash`` is opened on it); ``commit()`` flushes the copy and renames
/// it over the image, which a crash cannot leave half done. Until then the
/// image is untouched: a command that fails, or is killed, leaves it
/// byte-identical (a killed one may leave its temporary file behind,
/// `.NAME.flashkvs-XXXXXX`, which can be deleted).
///
/// The copy takes the image's permission bits; a renamed file has a new
/// inode, so other hard links to the image keep the old contents. A
/// symbolic link is followed: the file it points to is replaced.
public final class ImageUpdate {
    /// The image's path, as given.
    public let path: String
    /// The flash of the copy.
    public let flash: FileFlash
    /// Whether the image did not exist and is created by ``commit()``.
    public let createsImage: Bool
    private let target: String
    private let temporaryPath: String
    private var finished = false

    /// Starts a change of the image at `path`: copies it (reporting
    /// `progress(bytesCopied, totalBytes)`), or, when it does not exist and
    /// `createIfMissing`, makes an erased image of `sectorCount` sectors.
    /// The geometry is checked against the image first (as
    /// ``FileFlash/init(openingImageAt:sectorSize:sectorCount:alignment:offset:mode:)``
    /// does), before anything is copied.
    /// - Throws: ``FileFlashError``.
    public init(
        path: String, sectorSize: Int, sectorCount: Int?, alignment: Int, offset: Int? = nil,
        createIfMissing: Bool, progress: ((Int, Int) -> Void)? = nil
    ) throws(FileFlashError) {
        self.path = path
        let exists = (try? FilePath(path).stat()) != nil || isSymbolicLink(path)
        if !exists && createIfMissing {
            guard let sectorCount, offset == nil else {
                throw .cannotOpen(path: path, .noSuchFileOrDirectory)
            }
            createsImage = true
            target = path
            temporaryPath = try Self.makeTemporaryFile(besides: target, mode: nil)
            do {
                flash = try FileFlash.create(
                    at: temporaryPath, geometry: FlashGeometry(sectorSize: sectorSize, sectorCount: sectorCount,
                                                               alignment: alignment), overwrite: true)
            } catch {
                unlink(temporaryPath)
                throw error
            }
            return
        }
        // The geometry must fit the image before a byte is copied.
        let original = try FileFlash(
            openingImageAt: path, sectorSize: sectorSize, sectorCount: sectorCount, alignment: alignment, offset: offset,
            mode: .readOnly)
        try? original.close()
        createsImage = false
        target = try Self.resolve(path)
        let mode = Self.permissions(of: target)
        temporaryPath = try Self.makeTemporaryFile(besides: target, mode: mode)
        do {
            try Self.copy(target, to: temporaryPath, progress: progress)
            flash = try FileFlash(
                openingImageAt: temporaryPath, sectorSize: sectorSize, sectorCount: original.sectorCount,
                alignment: alignment, offset: offset, mode: .readWrite)
        } catch {
            unlink(temporaryPath)
            throw error
        }
    }

    /// Replaces an image with an erased one of `geometry` (or creates it),
    /// atomically: `create --force`.
    /// - Throws: ``FileFlashError``.
    public static func replace(_ path: String, withErased geometry: FlashGeometry) throws(FileFlashError) {
        try geometry.validate()
        let target = (try? resolve(path)) ?? path
        let temporary = try makeTemporaryFile(besides: target, mode: permissions(of: target))
        do {
            let flash = try FileFlash.create(at: temporary, geometry: geometry, overwrite: true)
            try flash.close()
            try moveIntoPlace(temporary, over: target)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    deinit {
        if !finished { discard() }
    }

    /// Makes the change: flushes the copy (`fsync`), renames it over the
    /// image, and flushes the folder.
    /// - Throws: ``FileFlashError`` (the image is then unchanged and the copy deleted).
    public func commit() throws(FileFlashError) {
        precondition(!finished, "an image update is committed or discarded once")
        finished = true
        do {
            try flash.close()
            try Self.moveIntoPlace(temporaryPath, over: target)
        } catch {
            unlink(temporaryPath)
            throw error
        }
    }

    /// Drops the change: the image stays as it was.
    public func discard() {
        guard !finished else { return }
        finished = true
        try? flash.close()
        unlink(temporaryPath)
    }

    // MARK: Files

    /// The real path of `path` (symbolic links followed).
    private static func resolve(_ path: String) throws(FileFlashError) -> String {
        guard let resolved = realpath(path, nil) else { throw .cannotOpen(path: path, Errno(rawValue: errno)) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The permission bits of the file at `path`, if it exists.
    private static func permissions(of path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }

    /// Creates `.NAME.flashkvs-XXXXXX` in the folder of `target`, with
    /// `mode` (default: 0666 less the umask, as a new file gets).
    private static func makeTemporaryFile(besides target: String, mode: mode_t?) throws(FileFlashError) -> String {
        let file = FilePath(target)
        let name = "." + (file.lastComponent?.string ?? "image") + ".flashkvs-XXXXXX"
        let folder = file.removingLastComponent()
        var template = Array((folder.isEmpty ? FilePath(name) : folder.appending(name)).string.utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw .cannotOpen(path: target, Errno(rawValue: errno)) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, mode ?? (0o666 & ~mask))
        close(descriptor)
        return path
    }

    /// Copies the bytes of `source` into the (empty) file `destination`.
    private static func copy(
        _ source: String, to destination: String, progress: ((Int, Int) -> Void)?
    ) throws(FileFlashError) {
        let input: FileDescriptor
        let output: FileDescriptor
        do {
            input = try FileDescriptor.open(FilePath(source), .readOnly, options: [.closeOnExec])
        } catch {
            throw .cannotOpen(path: source, error as? Errno ?? .ioError)
        }
        defer { try? input.close() }
        do {
            output = try FileDescriptor.open(FilePath(destination), .writeOnly, options: [.closeOnExec])
        } catch {
            throw .cannotOpen(path: destination, error as? Errno ?? .ioError)
        }
        defer { try? output.close() }
        let total = Int((try? input.seek(offset: 0, from: .end)) ?? 0)
        _ = try? input.seek(offset: 0, from: .start)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var copied = 0
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
            } catch {
                throw .io(path: source, operation: "reading", error as? Errno ?? .ioError)
            }
            if count == 0 { return }
            do {
                _ = try buffer.withUnsafeBytes { try output.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            } catch {
                throw .io(path: destination, operation: "writing", error as? Errno ?? .ioError)
            }
            copied += count
            progress?(copied, total)
        }
    }

    /// Renames `source` over `target` and flushes their folder, so that
    /// the new name survives a crash.
    private static func moveIntoPlace(_ source: String, over target: String) throws(FileFlashError) {
        guard rename(source, target) == 0 else {
            throw .io(path: target, operation: "replacing", Errno(rawValue: errno))
        }
        let folder = FilePath(target).removingLastComponent()
        if let directory = try? FileDescriptor.open(folder.isEmpty ? "." : folder, .readOnly, options: [.directory]) {
            _ = fsync(directory.rawValue)
            try? directory.close()
        }
    }
}

/// Whether `path` is a symbolic link (a dangling one is no image to copy).
private func isSymbolicLink(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK
}
