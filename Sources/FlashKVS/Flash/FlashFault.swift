/// A fault to inject into ``RAMFlash``: make matching operations fail.
///
/// Semantics follow the reference's fake flash: faults are checked in the
/// order they were injected and the first one that fires decides the
/// operation's result. A fault with a `range` only sees operations whose
/// bytes overlap it (others neither fire nor consume its delay). A fault
/// that sees an operation first skips `delay` of them, then fires `times`
/// times (forever when nil).
public struct FlashFault: Sendable {
    /// The kind of flash operation a fault applies to.
    public enum Operation: Sendable { case read, write, erase }

    public var operation: Operation
    public var error: KVSError
    /// Flash byte range `(address, length)` the fault watches; nil: all.
    public var range: (address: Int, length: Int)?
    /// How many times it fires; nil fires on every matching operation.
    public var times: Int?
    /// How many matching operations pass before it starts firing.
    public var delay: Int

    public init(
        _ operation: Operation, error: KVSError, range: (address: Int, length: Int)? = nil,
        times: Int? = nil, delay: Int = 0
    ) {
        self.operation = operation
        self.error = error
        self.range = range
        self.times = times
        self.delay = delay
    }

    /// Sees one operation on `[address, address + length)`; returns the
    /// error if the fault fires.
    mutating func evaluate(address: Int, length: Int) -> KVSError? {
        if let range {
            let overlaps = address < range.address + range.length && range.address < address + max(length, 1)
            guard overlaps else { return nil }
        }
        if delay > 0 {
            delay -= 1
            return nil
        }
        if let remaining = times {
            guard remaining > 0 else { return nil }
            times = remaining - 1
        }
        return error
    }
}
