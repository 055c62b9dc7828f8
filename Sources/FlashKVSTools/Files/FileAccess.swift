import SystemPackage

/// A file that could not be read or written; one line naming the file.
public struct FileAccessError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Errno

    public init(path: String, operation: String, errno: Errno) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "cannot \(operation) '\(path)': \(errno.description)" }
}

/// Whole-file reads and writes through swift-system.
public enum FileAccess {
    /// The contents of the file at `path`.
    /// - Throws: ``FileAccessError`` (missing file, a directory, no permission).
    public static func read(_ path: String) throws(FileAccessError) -> [UInt8] {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw FileAccessError(path: path, operation: "open", errno: error as? Errno ?? .ioError)
        }
        defer { try? descriptor.close() }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            } catch {
                throw FileAccessError(path: path, operation: "read", errno: error as? Errno ?? .ioError)
            }
            if count == 0 { return contents }
            contents.append(contentsOf: chunk[0..<count])
        }
    }

    /// Replaces the file at `path` with `bytes` (created with mode 0644).
    /// - Throws: ``FileAccessError``.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileAccessError) {
        do {
            let descriptor = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try descriptor.closeAfter {
                _ = try bytes.withUnsafeBytes { try descriptor.writeAll($0) }
            }
        } catch {
            throw FileAccessError(path: path, operation: "write", errno: error as? Errno ?? .ioError)
        }
    }

    /// Whether something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        (try? FilePath(path).stat()) != nil
    }

    /// `path` resolved against the directory of `file` when relative.
    public static func resolve(_ path: String, relativeToFileAt file: String) -> String {
        let target = FilePath(path)
        guard !target.isAbsolute else { return path }
        return FilePath(file).removingLastComponent().appending(target.components).string
    }
}
