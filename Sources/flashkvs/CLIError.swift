import FlashKVS
import FlashKVSTools

/// A failure of a command: the exit status and the one-line message
/// printed after `flashkvs: error: `.
struct CLIError: Error {
    var status: ToolExitStatus
    var message: String

    init(_ status: ToolExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A store error from an operation on `path`, explained; `what`
    /// names the operation (`put 'key'`). I/O failures are reported with
    /// the file's operating-system error.
    static func store(_ error: KVSError, _ what: String, image path: String, flash: FileFlash?) -> CLIError {
        if error == .unavailable, let errno = flash?.lastIOError {
            return CLIError(.ioError, "\(what): I/O error on '\(path)': \(errno.description)")
        }
        switch error {
        case .notFound:
            return CLIError(.notFound, "\(what): key not found in '\(path)'")
        case .invalidArgument:
            let limit = flash.map { ": at most \($0.sectorSize - EntryHeader.size) bytes with --sector-size \($0.sectorSize)" } ?? ""
            return CLIError(.badArgument, "\(what): the store refuses it (INVALID_ARGUMENT): a key must be 1 to 63 "
                + "bytes and key + value must fit one sector with its 16-byte header\(limit)")
        case .alreadyExists:
            return CLIError(.badArgument, "\(what): another stored key has the same pw_kvs hash; the two cannot coexist")
        case .resourceExhausted:
            return CLIError(.storeFull, "\(what): no room in '\(path)' (RESOURCE_EXHAUSTED): the sectors are full of "
                + "live data or the key table is full (--max-entries); try 'flashkvs maintain \(path) heavy' or a larger image")
        case .failedPrecondition, .dataLoss:
            return CLIError(.corruptImage, "\(what): '\(path)' has unrepaired errors (\(error.name)); "
                + "run 'flashkvs verify \(path)' to see them and 'flashkvs repair \(path)' to fix them")
        case .unknown:
            return CLIError(.corruptImage, "\(what): a write hit flash bytes that are not erased (data hidden after "
                + "free space?); run 'flashkvs verify \(path)'")
        default:
            return CLIError(.internalError, "\(what): unexpected store status \(error.name)")
        }
    }

    /// An error opening or creating an image file.
    static func file(_ error: FileFlashError) -> CLIError {
        switch error {
        case .invalidGeometry: CLIError(.badArgument, error.description)
        case .sizeMismatch, .sizeNotMultipleOfSector, .partitionBeyondEnd: CLIError(.configurationMismatch, error.description)
        default: CLIError(.ioError, error.description)
        }
    }
}
