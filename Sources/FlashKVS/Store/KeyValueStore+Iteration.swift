extension KeyValueStore {
    /// A present key, as produced by iterating ``items``.
    public struct Item: Equatable, Sendable {
        let descriptor: Int
    }

    /// The present keys in pw_kvs order (the order their first version was
    /// found by `initialize()`, new keys appended). Do not modify the store
    /// while iterating. Iterating reads no flash.
    public var items: Items { Items(store: self) }

    /// The sequence of present keys.
    public struct Items: Sequence {
        let store: KeyValueStore

        public func makeIterator() -> Iterator { Iterator(store: store) }

        public struct Iterator: IteratorProtocol {
            let store: KeyValueStore
            var position = 0

            public mutating func next() -> Item? {
                while position < store.keys.count {
                    let descriptor = position
                    position += 1
                    if !store.keys.isDeleted(descriptor) { return Item(descriptor: descriptor) }
                }
                return nil
            }
        }
    }

    /// Reads `item`'s key (from the first copy whose header parses) into
    /// `buffer`, which needs room for 63 bytes.
    /// - Returns: the key length.
    /// - Throws: `.resourceExhausted` if `buffer` is too small; `.dataLoss`
    ///   or a read error if no copy can be read.
    public func key(of item: Item, into buffer: inout MutableSpan<UInt8>) throws(KVSError) -> Int {
        let entry = try readEntry(item.descriptor)
        let length = try readKey(entry.header, at: entry.address)
        guard length <= buffer.count else { throw .resourceExhausted }
        let key = lastReadKey(count: length)
        for index in 0..<length { buffer[index] = key[index] }
        return length
    }

    /// `item`'s key as a new array (allocates).
    public func key(of item: Item) throws(KVSError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: EntryHeader.maxKeyLength)
        var span = bytes.mutableSpan
        let length = try key(of: item, into: &span)
        bytes.removeLast(bytes.count - length)
        return bytes
    }

    /// The size of `item`'s value (not verified).
    public func valueSize(of item: Item) throws(KVSError) -> Int {
        try readEntry(item.descriptor).header.valueSize
    }

    /// Reads `item`'s value, verified against the key stored on flash;
    /// see ``get(_:into:offset:)`` for the result and errors.
    @discardableResult
    public func get(_ item: Item, into buffer: inout MutableSpan<UInt8>, offset: Int = 0) throws(KVSError) -> Int {
        let entry = try readEntry(item.descriptor)
        let keyLength = try readKey(entry.header, at: entry.address)
        return try readVerifiedValue(entry, key: lastReadKey(count: keyLength).span, into: &buffer, offset: offset)
    }
}
