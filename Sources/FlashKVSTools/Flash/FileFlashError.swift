import SystemPackage

/// Why a flash image file could not be created, opened or flushed.
///
/// Each case carries what a person needs to fix it; ``description`` is one
/// line naming the file.
public enum FileFlashError: Error, Equatable, CustomStringConvertible {
    /// The geometry itself is unusable (zero sector size, alignment, ...).
    case invalidGeometry(String)
    /// The operating system refused to open or create the file.
    case cannotOpen(path: String, Errno)
    /// The path exists but is not a regular file (a directory, a device).
    case notARegularFile(path: String)
    /// `create` was asked for a file that already exists.
    case alreadyExists(path: String)
    /// The file's size is not a whole number of sectors.
    case sizeNotMultipleOfSector(path: String, size: Int64, sectorSize: Int)
    /// The file's size differs from sector size x sector count.
    case sizeMismatch(path: String, size: Int64, expected: Int64, sectorSize: Int, sectorCount: Int)
    /// A partition at `offset` runs past the end of the file (`end` is
    /// where it would end).
    case partitionBeyondEnd(path: String, size: Int64, offset: Int, end: Int64)
    /// A read, write, sync or close failed.
    case io(path: String, operation: String, Errno)

    public var description: String {
        switch self {
        case .invalidGeometry(let reason):
            "invalid flash geometry: \(reason)"
        case .cannotOpen(let path, let errno):
            "cannot open '\(path)': \(errno.description)"
        case .notARegularFile(let path):
            "'\(path)' is not a regular file"
        case .alreadyExists(let path):
            "'\(path)' already exists (use --force to overwrite it)"
        case .sizeNotMultipleOfSector(let path, let size, let sectorSize):
            "'\(path)' is \(size) bytes, not a whole number of \(sectorSize)-byte sectors (check --sector-size)"
        case .sizeMismatch(let path, 0, _, _, _):
            "'\(path)' is empty (0 bytes); create an image with 'flashkvs create'"
        case .sizeMismatch(let path, let size, let expected, let sectorSize, let sectorCount):
            "'\(path)' is \(size) bytes but --sectors \(sectorCount) x --sector-size \(sectorSize) is \(expected) bytes"
        case .partitionBeyondEnd(let path, let size, let offset, let end):
            "'\(path)' is \(size) bytes, but the partition at --offset \(offset) ends at byte \(end) (check --offset, "
                + "--sectors and --sector-size)"
        case .io(let path, let operation, let errno):
            "\(operation) '\(path)' failed: \(errno.description)"
        }
    }

    /// Whether the error is about the file's size versus the geometry
    /// (a configuration mismatch rather than an I/O failure).
    public var isGeometryMismatch: Bool {
        switch self {
        case .sizeMismatch, .sizeNotMultipleOfSector, .partitionBeyondEnd: true
        default: false
        }
    }
}
