/// Counts of flash operations and the bytes they moved, kept by the flash
/// implementations of FlashKVS (``RAMFlash``, the tools' file-backed flash)
/// for tests, benchmarks and tools.
public struct FlashCounters: Equatable, Sendable {
    public var readCalls = 0
    public var bytesRead = 0
    public var writeCalls = 0
    public var bytesWritten = 0
    public var eraseCalls = 0
    public var sectorsErased = 0

    public init() {}
}
