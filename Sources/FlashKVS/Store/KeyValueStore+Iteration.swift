extension KeyValueStore {
    /// A present key, as produced by iterating ``items``, with its key bytes
    /// as read from flash when the iterator reached it.
    public struct Item: Sendable {
        let descriptor: Int
        private var storage = InlineArray<64, UInt8>(repeating: 0)
        /// Length of ``key`` (0 if no copy of the entry could be read).
        public private(set) var keyCount = 0

        init(descriptor: Int) {
            self.descriptor = descriptor
        }

        /// Reads the key of the entry at `address` and keeps it if it
        /// matches the hash in the key table.
        mutating func readKey(from store: KeyValueStore, at address: Int) -> Bool {
            var span = storage.mutableSpan
            guard let entry = try? Entry(readingAt: address, in: store.io),
                  let length = try? entry.readKey(into: &span),
                  KeyHash.of(storage.span.extracting(0..<length)) == store.keyTable.hash(descriptor)
            else { return false }
            keyCount = length
            return true
        }

        /// The key bytes (allocates).
        public var key: [UInt8] { (0..<keyCount).map { storage[$0] } }

        /// Calls `body` with the key bytes. No allocation.
        public func withKey<Result, Failure: Error>(
            _ body: (Span<UInt8>) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            try body(storage.span.extracting(0..<keyCount))
        }
    }

    /// The present keys in pw_kvs order (the order their first version was
    /// found by `initialize()`, new keys appended). Each step reads the
    /// next key from flash (header and key of its first readable copy);
    /// the key is empty if no copy can be read. Do not modify the store
    /// while iterating.
    public var items: Items { Items(store: self) }

    /// The sequence of present keys.
    public struct Items: Sequence {
        let store: KeyValueStore

        public func makeIterator() -> Iterator { Iterator(store: store) }

        public struct Iterator: IteratorProtocol {
            let store: KeyValueStore
            var position = 0

            public mutating func next() -> Item? {
                while position < store.keyTable.count {
                    let descriptor = position
                    position &+= 1
                    if !store.keyTable.isDeleted(descriptor) { return store.item(descriptor) }
                }
                return nil
            }
        }
    }

    /// The item for `descriptor`, with the key of its first copy whose
    /// header parses and whose key matches the hash in the key table (a
    /// copy with a corrupted key is marked for repair and skipped; pw_kvs
    /// returns the corrupted key, spec 7.2 B2); a copy that cannot be read
    /// is skipped without blame.
    private func item(_ descriptor: Int) -> Item {
        var item = Item(descriptor: descriptor)
        var failure: KVSError? = nil
        var copy = 0
        while let address = keyTable.addressOfCopy(copy, of: descriptor) {
            copy &+= 1
            let readsBefore = failedReads
            if item.readKey(from: self, at: address) { return item }
            noteFailedCopy(at: address, .dataLoss, readsBefore: readsBefore, failure: &failure)
        }
        return item
    }

    /// `item`'s key as a new array (allocates); no flash access.
    public func key(of item: Item) -> [UInt8] { item.key }

    /// Copies `item`'s key into `buffer`; no flash access.
    /// - Returns: the key length.
    /// - Throws: `.resourceExhausted` if `buffer` is shorter than the key.
    public func key(of item: Item, into buffer: inout MutableSpan<UInt8>) throws(KVSError) -> Int {
        guard item.keyCount <= buffer.count else { throw .resourceExhausted }
        item.withKey { key in
            for index in 0..<key.count { buffer[index] = key[index] }
        }
        return item.keyCount
    }

    /// The size of `item`'s value (not verified).
    /// - Throws: `.dataLoss` or the read error if no copy can be read.
    public func valueSize(of item: Item) throws(KVSError) -> Int {
        try readEntry(item.descriptor).header.valueSize
    }

    /// Reads `item`'s value, verified against the key read by the iterator,
    /// falling back to other copies like ``get(_:into:offset:)``.
    /// - Throws: as ``get(_:into:offset:)``.
    /// - Complexity: reads the header and the value (2 reads).
    @discardableResult
    public func get(_ item: Item, into buffer: inout MutableSpan<UInt8>, offset: Int = 0) throws(KVSError) -> Int {
        try item.withKey { key throws(KVSError) in
            try readValueFromFirstGoodCopy(of: item.descriptor, known: nil, key: key, into: &buffer, offset: offset)
        }
    }
}
