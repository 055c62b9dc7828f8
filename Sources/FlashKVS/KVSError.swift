/// The one error type of FlashKVS: the pw_status codes, with their canonical
/// numbering (`rawValue`), so logs and tools agree with pw_kvs.
///
/// Every throwing API documents which cases it throws and when. Flash drivers
/// (``FlashMemory``) throw the same type, so a driver's status reaches the
/// caller unchanged: a read that fails twice is reported as the driver's
/// error, never as `.notFound` or `.dataLoss`.
public enum KVSError: UInt8, Error, Equatable, Sendable {
    /// The operation was cancelled. Not thrown by the store; a driver may.
    ///
    /// pw_status `CANCELLED`.
    case cancelled = 1

    /// A flash driver failed without saying why. ``RAMFlash`` throws it for
    /// a program onto bytes that are not erased (the store then retries the
    /// write in another sector).
    ///
    /// pw_status `UNKNOWN`.
    case unknown = 2

    /// Bad input: an empty key or one over 63 bytes, a value that does not
    /// fit one sector, a configuration the entry format cannot express
    /// (``KeyValueStore/init(partition:formats:capacity:maxSectors:redundancy:options:)``),
    /// a misaligned flash address or length, or a stored value of another
    /// size than the type asked for (typed `get`).
    ///
    /// pw_status `INVALID_ARGUMENT`.
    case invalidArgument = 3

    /// A flash operation timed out. Not thrown by the store; a driver may.
    ///
    /// pw_status `DEADLINE_EXCEEDED`.
    case deadlineExceeded = 4

    /// The key is absent or deleted (`get`, `valueSize`, `delete`), or
    /// partial maintenance found nothing to reclaim. Never the answer to a
    /// flash error: a key that is indexed but cannot be read is
    /// `.dataLoss` or the driver's error.
    ///
    /// pw_status `NOT_FOUND`.
    case notFound = 5

    /// Another stored key has the same 32-bit key hash: the put is refused
    /// (on reads the other key is simply not found).
    ///
    /// pw_status `ALREADY_EXISTS`.
    case alreadyExists = 6

    /// A write or erase on a read-only ``FlashPartition``.
    ///
    /// pw_status `PERMISSION_DENIED`.
    case permissionDenied = 7

    /// Out of room: the key table is full, no sector has space even after
    /// garbage collection, a read buffer is shorter than the value (it then
    /// holds the first bytes), or `initialize()` found more keys on flash
    /// than `capacity` (nothing is erased then).
    ///
    /// pw_status `RESOURCE_EXHAUSTED`.
    case resourceExhausted = 8

    /// The store is not in a state for the call: not initialized, writes
    /// while errors wait for maintenance, a geometry `initialize()` cannot
    /// serve, or flash holding data of a format the store was not given
    /// (nothing is erased then; see ``ScanReport/unrecognizedData``).
    ///
    /// pw_status `FAILED_PRECONDITION`.
    case failedPrecondition = 9

    /// The operation was aborted. Not thrown by the store; a driver may.
    ///
    /// pw_status `ABORTED`.
    case aborted = 10

    /// An address or offset past the end: a read offset past the value, a
    /// flash access outside the partition.
    ///
    /// pw_status `OUT_OF_RANGE`.
    case outOfRange = 11

    /// Not supported. Not thrown by the store; a driver may.
    ///
    /// pw_status `UNIMPLEMENTED`.
    case unimplemented = 12

    /// A broken internal invariant the store detected instead of trapping
    /// (garbage collection could not empty a sector, an entry alignment
    /// over 256 bytes). Please report it.
    ///
    /// pw_status `INTERNAL`.
    case `internal` = 13

    /// The flash is not available: ``RAMFlash`` throws it for every
    /// operation after a simulated power cut.
    ///
    /// pw_status `UNAVAILABLE`.
    case unavailable = 14

    /// Stored data is damaged: every copy of a key was read and none is
    /// intact, a written entry did not verify, or `initialize()` found
    /// errors it did not repair (the store then serves reads and needs
    /// maintenance before writes).
    ///
    /// pw_status `DATA_LOSS`.
    case dataLoss = 15

    /// Not thrown by the store; a driver may (for example for a protected
    /// region).
    ///
    /// pw_status `UNAUTHENTICATED`.
    case unauthenticated = 16

    /// The pw_status name, e.g. `NOT_FOUND`.
    public var name: StaticString {
        switch self {
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}

extension KVSError: CustomStringConvertible {
    /// The pw_status name, e.g. `NOT_FOUND`.
    public var description: String { name.description }
}
