/// A buffer of fixed length, allocated once and freed with its owner.
///
/// The store keeps the addresses reserved for a write in one (its tables
/// manage their own single allocations); nothing grows after construction.
/// Every access is bounds-checked (an out-of-bounds index is a FlashKVS bug,
/// never a consequence of flash contents, which are validated first).
struct FixedArray<Element: BitwiseCopyable>: ~Copyable {
    let buffer: UnsafeMutableBufferPointer<Element>

    init(repeating value: Element, count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: value)
    }

    deinit { buffer.deallocate() }

    var count: Int { buffer.count }

    subscript(index: Int) -> Element {
        @inline(__always) get {
            precondition(index >= 0 && index < buffer.count)
            return buffer[index]
        }
        @inline(__always) nonmutating set {
            precondition(index >= 0 && index < buffer.count)
            buffer[index] = newValue
        }
    }

    /// Sets every element to `value`.
    func fill(with value: Element) {
        for index in buffer.indices { buffer[index] = value }
    }
}
