// Conveniences for `String` keys and `[UInt8]` values. Keys are the
// string's UTF-8 bytes (no terminator). The array-returning readers
// allocate; on a device prefer the span-based APIs.
extension KeyValueStore {
    /// ``put(_:_:)`` with a string key.
    public func put(_ key: String, _ value: Span<UInt8>) throws(KVSError) {
        try put(key.utf8.span, value)
    }

    /// ``put(_:_:)`` with a string key and an array value.
    public func put(_ key: String, _ value: [UInt8]) throws(KVSError) {
        try put(key.utf8.span, value.span)
    }

    /// ``put(_:value:)`` with a string key.
    public func put<Value: BitwiseCopyable>(_ key: String, value: Value) throws(KVSError) {
        try put(key.utf8.span, value: value)
    }

    /// ``delete(_:)`` with a string key.
    public func delete(_ key: String) throws(KVSError) {
        try delete(key.utf8.span)
    }

    /// ``get(_:into:offset:)`` with a string key.
    @discardableResult
    public func get(_ key: String, into buffer: inout MutableSpan<UInt8>, offset: Int = 0) throws(KVSError) -> Int {
        try get(key.utf8.span, into: &buffer, offset: offset)
    }

    /// ``get(_:as:)`` with a string key.
    public func get<Value: BitwiseCopyable>(_ key: String, as type: Value.Type = Value.self) throws(KVSError) -> Value {
        try get(key.utf8.span, as: type)
    }

    /// The whole value of `key` as a new array (allocates).
    /// - Throws: as ``get(_:into:offset:)``.
    public func get(_ key: String) throws(KVSError) -> [UInt8] {
        try value(key.utf8.span)
    }

    /// The whole value of `key` as a new array (allocates).
    /// - Throws: as ``get(_:into:offset:)``.
    public func value(_ key: Span<UInt8>) throws(KVSError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: try valueSize(key))
        var span = bytes.mutableSpan
        try get(key, into: &span)
        return bytes
    }

    /// ``valueSize(_:)`` with a string key.
    public func valueSize(_ key: String) throws(KVSError) -> Int {
        try valueSize(key.utf8.span)
    }
}
