import FlashKVS
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// NOR flash backed by an image file: byte `offset + i` of the file is
/// flash address `i` (the offset is 0 for an image file, or where a
/// partition starts in a whole-chip dump), erased bytes are 0xFF.
///
/// NOR rules are enforced as by the core's `RAMFlash`: programming a byte
/// that is not erased fails with `.unknown` and writes nothing; a misaligned
/// write or erase fails with `.invalidArgument`; an access past the end
/// fails with `.outOfRange`; a write or erase on a read-only image fails
/// with `.permissionDenied`. An operating-system failure is reported as
/// `.unavailable` and its `Errno` is kept in ``lastIOError``.
///
/// Every read and write goes straight to the file with `pread`/`pwrite`
/// (no cache); ``flush()`` makes the changes durable (`fsync`). The file is
/// closed when the object is released.
public final class FileFlash: FlashMemory {
    /// How the image file is opened.
    public enum AccessMode: Sendable {
        /// Reads only; the file is opened `O_RDONLY` and never changes.
        case readOnly
        /// Reads, writes and erases.
        case readWrite
    }

    /// Call and byte counts since the file was opened.
    public typealias Counters = FlashCounters

    /// A flash operation that succeeded, as ``observer`` sees it.
    public enum Access: Sendable {
        case read(address: Int, count: Int)
        case write(address: Int, count: Int)
        case erase(address: Int, count: Int)
    }

    public let sectorSize: Int
    public let sectorCount: Int
    public let alignment: Int
    public let erasedByte: UInt8 = 0xFF
    /// The image file's path, as given.
    public let path: String
    /// Where flash address 0 is in the file.
    public let offset: Int
    /// Called after every read, write and erase that succeeded (progress
    /// reports, test hooks).
    public var observer: ((Access) -> Void)?
    /// Whether writes and erases are allowed.
    public let isWritable: Bool
    /// Operation counts since opening.
    public private(set) var counters = Counters()
    /// Erases per sector since opening (pw_kvs keeps no erase counters on
    /// flash, so earlier erases are unknown).
    public private(set) var eraseCounts: [Int]
    /// The operating-system error behind the most recent `.unavailable`.
    public private(set) var lastIOError: Errno?

    private let descriptor: FileDescriptor
    private var isClosed = false

    /// Total bytes.
    public var size: Int { sectorSize * sectorCount }

    /// Opens an existing image, or a partition inside a larger file.
    ///
    /// - Parameters:
    ///   - sectorCount: the expected number of sectors; nil takes the file
    ///     size divided by `sectorSize`.
    ///   - offset: nil for an image file, which must have exactly the
    ///     geometry's size; otherwise where the partition starts in the
    ///     file (`sectorCount` is then required, and the file may go on
    ///     after the partition).
    /// - Throws: `.invalidGeometry`; `.cannotOpen` (missing file, no
    ///   permission); `.notARegularFile`; `.sizeNotMultipleOfSector`,
    ///   `.sizeMismatch` or `.partitionBeyondEnd` when the file does not
    ///   have the geometry's size (nothing is read or written then).
    public init(
        openingImageAt path: String, sectorSize: Int, sectorCount: Int? = nil, alignment: Int,
        offset: Int? = nil, mode: AccessMode
    ) throws(FileFlashError) {
        try FlashGeometry(sectorSize: sectorSize, sectorCount: sectorCount ?? 1, alignment: alignment).validate()
        if let offset {
            guard offset >= 0 else { throw .invalidGeometry("the offset must not be negative (got \(offset))") }
            guard sectorCount != nil else {
                throw .invalidGeometry("a partition at an offset needs its sector count (the file may go on after it)")
            }
        }
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(
                FilePath(path), mode == .readOnly ? .readOnly : .readWrite, options: [.closeOnExec])
        } catch {
            throw .cannotOpen(path: path, error as? Errno ?? .ioError)
        }
        let count: Int
        do {
            let fileSize = try Self.regularFileSize(descriptor, path: path)
            if let offset, let sectorCount {
                let end = Int64(offset) + Int64(sectorCount) * Int64(sectorSize)
                guard fileSize >= end else {
                    throw FileFlashError.partitionBeyondEnd(path: path, size: fileSize, offset: offset, end: end)
                }
            } else if fileSize % Int64(sectorSize) != 0 {
                throw FileFlashError.sizeNotMultipleOfSector(path: path, size: fileSize, sectorSize: sectorSize)
            }
            count = sectorCount ?? Int(fileSize / Int64(sectorSize))
            let expected = Int64(count) * Int64(sectorSize)
            guard offset != nil || fileSize == expected, count > 0 else {
                throw FileFlashError.sizeMismatch(
                    path: path, size: fileSize, expected: expected, sectorSize: sectorSize, sectorCount: count)
            }
            try FlashGeometry(sectorSize: sectorSize, sectorCount: count, alignment: alignment).validate()
        } catch {
            try? descriptor.close()
            throw error as? FileFlashError ?? .io(path: path, operation: "reading", .ioError)
        }
        self.sectorCount = count
        self.sectorSize = sectorSize
        self.alignment = alignment
        self.path = path
        self.offset = offset ?? 0
        self.isWritable = mode == .readWrite
        self.descriptor = descriptor
        self.eraseCounts = [Int](repeating: 0, count: count)
    }

    /// Creates an erased image (every byte 0xFF) and opens it read-write.
    ///
    /// - Parameter overwrite: replace an existing file; otherwise an
    ///   existing file is an error and is left untouched.
    /// - Throws: `.invalidGeometry`; `.alreadyExists`; `.cannotOpen`;
    ///   `.notARegularFile`; `.io` if writing the erased bytes fails.
    public static func create(
        at path: String, geometry: FlashGeometry, overwrite: Bool = false
    ) throws(FileFlashError) -> FileFlash {
        try geometry.validate()
        var options: FileDescriptor.OpenOptions = [.create, .closeOnExec]
        if !overwrite { options.insert(.exclusiveCreate) }
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(
                FilePath(path), .readWrite, options: options, permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch let errno as Errno where errno == .fileExists {
            throw .alreadyExists(path: path)
        } catch {
            throw .cannotOpen(path: path, error as? Errno ?? .ioError)
        }
        do {
            _ = try regularFileSize(descriptor, path: path)
            try descriptor.resize(to: 0)
            let erased = [UInt8](repeating: 0xFF, count: geometry.sectorSize)
            for sector in 0..<geometry.sectorCount {
                try erased.withUnsafeBytes { bytes in
                    _ = try descriptor.writeAll(toAbsoluteOffset: Int64(sector * geometry.sectorSize), bytes)
                }
            }
            guard fsync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
            try descriptor.close()
        } catch {
            try? descriptor.close()
            if let error = error as? FileFlashError { throw error }
            throw .io(path: path, operation: "writing", error as? Errno ?? .ioError)
        }
        return try FileFlash(
            openingImageAt: path, sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount,
            alignment: geometry.alignment, mode: .readWrite)
    }

    deinit {
        if !isClosed { try? descriptor.close() }
    }

    /// Makes every write so far durable (`fsync`). Does nothing for a
    /// read-only image.
    /// - Throws: `.io` if the sync fails.
    public func flush() throws(FileFlashError) {
        guard isWritable, !isClosed else { return }
        guard fsync(descriptor.rawValue) == 0 else {
            throw .io(path: path, operation: "flushing", Errno(rawValue: errno))
        }
    }

    /// Flushes (when writable) and closes the file; later operations fail
    /// with `.unavailable`.
    /// - Throws: `.io` if the sync or close fails (the file is closed anyway).
    public func close() throws(FileFlashError) {
        guard !isClosed else { return }
        defer { isClosed = true }
        try flush()
        do { try descriptor.close() } catch {
            throw .io(path: path, operation: "closing", error as? Errno ?? .ioError)
        }
    }

    // MARK: FlashMemory

    /// Reads `buffer.count` bytes at `address` (one or more `pread` calls).
    /// - Throws: `.outOfRange` past the end; `.unavailable` on an I/O error.
    public func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        counters.readCalls += 1
        guard address >= 0, address <= size, buffer.count <= size - address else { throw .outOfRange }
        let result = buffer.withUnsafeMutableBytes { bytes in readFully(bytes, at: address) }
        try check(result)
        counters.bytesRead += buffer.count
        observer?(.read(address: address, count: buffer.count))
    }

    /// Programs `bytes` at `address` after checking every target byte is
    /// erased (one `pread`, then `pwrite`).
    /// - Throws: `.permissionDenied` (read-only), `.invalidArgument`
    ///   (misaligned), `.outOfRange`, `.unknown` (a target byte is not
    ///   erased: nothing is written), `.unavailable` (I/O error).
    public func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        counters.writeCalls += 1
        guard isWritable else { throw .permissionDenied }
        guard address % alignment == 0, bytes.count % alignment == 0 else { throw .invalidArgument }
        guard address >= 0, address <= size, bytes.count <= size - address else { throw .outOfRange }
        var current = [UInt8](repeating: 0, count: bytes.count)
        try check(current.withUnsafeMutableBytes { readFully($0, at: address) })
        for byte in current where byte != erasedByte { throw .unknown }
        try check(bytes.withUnsafeBytes { writeFully($0, at: address) })
        counters.bytesWritten += bytes.count
        observer?(.write(address: address, count: bytes.count))
    }

    /// Sets `count` whole sectors starting at `address` to 0xFF.
    /// - Throws: `.permissionDenied`, `.invalidArgument` (not at a sector
    ///   start), `.outOfRange`, `.unavailable`.
    public func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        counters.eraseCalls += 1
        guard isWritable else { throw .permissionDenied }
        guard address >= 0, count >= 0, address % sectorSize == 0 else { throw .invalidArgument }
        let first = address / sectorSize
        guard first + count <= sectorCount else { throw .outOfRange }
        let erased = [UInt8](repeating: erasedByte, count: sectorSize)
        for sector in first..<(first + count) {
            try check(erased.withUnsafeBytes { writeFully($0, at: sector * sectorSize) })
            eraseCounts[sector] += 1
            counters.sectorsErased += 1
        }
        observer?(.erase(address: address, count: count * sectorSize))
    }

    // MARK: File I/O

    private func check(_ result: Result<Void, Errno>) throws(KVSError) {
        if case .failure(let errno) = result {
            lastIOError = errno
            throw .unavailable
        }
    }

    private func readFully(_ buffer: UnsafeMutableRawBufferPointer, at address: Int) -> Result<Void, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        var done = 0
        while done < buffer.count {
            do {
                let count = try descriptor.read(
                    fromAbsoluteOffset: Int64(offset + address + done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
                // End of file before the geometry's end: the file shrank under us.
                guard count > 0 else { return .failure(.ioError) }
                done += count
            } catch {
                return .failure(error as? Errno ?? .ioError)
            }
        }
        return .success(())
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer, at address: Int) -> Result<Void, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        do {
            _ = try descriptor.writeAll(toAbsoluteOffset: Int64(offset + address), bytes)
            return .success(())
        } catch {
            return .failure(error as? Errno ?? .ioError)
        }
    }

    /// The size of the open file, which must be a regular file.
    private static func regularFileSize(_ descriptor: FileDescriptor, path: String) throws -> Int64 {
        let status: Stat
        do { status = try descriptor.stat() } catch { throw FileFlashError.io(path: path, operation: "inspecting", error) }
        guard status.type == .regular else { throw FileFlashError.notARegularFile(path: path) }
        return status.size
    }
}
