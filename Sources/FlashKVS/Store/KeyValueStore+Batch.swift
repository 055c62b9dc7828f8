/// What the validation pass of a batch learned about one operation (kept
/// on the stack of ``KeyValueStore/commit(_:)``).
struct BatchOperation {
    var hash: UInt32 = 0
    /// One copy of the operation's entry, aligned.
    var entrySize: Int = 0
    /// One copy of the entry a rollback of it would write (its key's
    /// current entry, or a tombstone).
    var restoreSize: Int = 0
    var keyLength: Int = 0
    var isDelete = false
    /// Whether the key is present (stored and not deleted).
    var present = false
    /// Whether the operation is written: not superseded by a later one of
    /// the same key, and not a delete of an absent key.
    var isMember = false
}

extension KeyValueStore {
    /// The operations of one atomic batch, given to the body of
    /// ``KeyValueStore/commit(_:)``. The body runs twice: once to validate
    /// (nothing is written), once to write; it must make the same calls,
    /// with the same keys and value sizes, both times.
    public struct Batch {
        let store: KeyValueStore
        var writing = false
        var count = 0
        var index = 0
        var nextTransactionID: UInt32 = 0
        var failure: KVSError? = nil
        var operations = InlineArray<16, BatchOperation>(repeating: BatchOperation())

        init(store: KeyValueStore) { self.store = store }

        /// Adds a put of `value` under `key` to the batch. A later
        /// operation on the same key replaces it (last wins).
        /// - Throws: while validating: `.invalidArgument` for a bad or
        ///   reserved key or a value too large for a sector; `.outOfRange`
        ///   past ``BatchRecord/maxOperations``; `.alreadyExists` if another
        ///   stored key (or another key of the batch) has the same hash; a
        ///   read error. While writing: the write's error (the batch is then
        ///   rolled back; rethrow it).
        /// - Complexity: validating, O(1) plus, for a key on flash, one read
        ///   of its header and key; writing,
        ///   one entry per copy (see ``KeyValueStore/commit(_:)``).
        public mutating func put(_ key: Span<UInt8>, _ value: Span<UInt8>) throws(KVSError) {
            try add(key, value, isDelete: false)
        }

        /// Adds a delete of `key` to the batch (a tombstone). Deleting a
        /// key that is absent when the batch commits writes nothing.
        /// - Throws: as ``put(_:_:)``.
        public mutating func delete(_ key: Span<UInt8>) throws(KVSError) {
            try add(key, Span(), isDelete: true)
        }

        /// ``put(_:_:)`` with a string key and an array value.
        public mutating func put(_ key: String, _ value: [UInt8]) throws(KVSError) {
            try add(key.utf8.span, value.span, isDelete: false)
        }

        /// ``delete(_:)`` with a string key.
        public mutating func delete(_ key: String) throws(KVSError) {
            try add(key.utf8.span, Span(), isDelete: true)
        }

        private mutating func add(_ key: Span<UInt8>, _ value: Span<UInt8>, isDelete: Bool) throws(KVSError) {
            if writing {
                do throws(KVSError) {
                    try write(key, value, isDelete: isDelete)
                } catch {
                    failure = failure ?? error
                    throw error
                }
                return
            }
            guard count < BatchRecord.maxOperations else { throw .outOfRange }
            operations[count] = try store.validateBatchOperation(key, value, isDelete: isDelete)
            count &+= 1
        }

        private mutating func write(_ key: Span<UInt8>, _ value: Span<UInt8>, isDelete: Bool) throws(KVSError) {
            guard index < count else { throw .failedPrecondition }
            let operation = operations[index]
            index &+= 1
            guard operation.hash == KeyHash.of(key), operation.isDelete == isDelete,
                  operation.entrySize == store.batchEntrySize(keyLength: key.count, valueSize: isDelete ? nil : value.count)
            else { throw .failedPrecondition }  // not the call the validation pass saw
            guard operation.isMember else { return }
            try store.writeBatchEntry(key, value, deleted: isDelete, transactionID: nextTransactionID)
            nextTransactionID &+= 1
        }

        /// Marks the members (last wins), checks the limits and computes
        /// the digest. O(count²), no flash access.
        /// - Returns: the member count and digest.
        /// - Throws: `.alreadyExists` for two keys of one hash and different
        ///   lengths; `.outOfRange` if the members' entries exceed one sector.
        mutating func selectMembers() throws(KVSError) -> (count: Int, digest: UInt32) {
            var members = 0
            var bytes = 0
            var digest = BatchRecord.emptyDigest
            for current in 0..<count {
                var operation = operations[current]
                var superseded = false
                for later in (current &+ 1)..<max(count, current &+ 1) where operations[later].hash == operation.hash {
                    guard operations[later].keyLength == operation.keyLength else { throw .alreadyExists }
                    superseded = true
                }
                operation.isMember = !superseded && (operation.present || !operation.isDelete)
                operations[current] = operation
                guard operation.isMember else { continue }
                members &+= 1
                bytes &+= operation.entrySize
                digest = BatchRecord.digest(adding: operation.hash, isDelete: operation.isDelete, to: digest)
            }
            guard bytes <= store.sectorSize else { throw .outOfRange }
            return (members, digest)
        }
    }

    /// Applies a group of puts and deletes atomically: after a power cut
    /// at any point, the next ``initialize()`` shows all of them or none.
    ///
    ///     try store.commit { batch throws(KVSError) in
    ///         try batch.put("wifi/ssid".utf8.span, ssid)
    ///         try batch.put("wifi/pass".utf8.span, password)
    ///         try batch.delete("wifi/bssid".utf8.span)
    ///     }
    ///
    /// `body` runs twice: first to validate every operation, with nothing
    /// written; then, once space is made, to write. It must make the same
    /// calls both times. A key given twice: the last operation wins. On
    /// flash (Docs/BATCHES.md): an intent record under the reserved key,
    /// the members as ordinary entries with consecutive transaction ids,
    /// then the commit record (a tombstone of the reserved key); no garbage
    /// collection runs between the intent and the commit.
    ///
    /// Requires ``enableBatches()`` before ``initialize()``.
    /// - Throws, before anything is written: an error of `body` or of its
    ///   validation (see ``Batch/put(_:_:)``); `.failedPrecondition` unless
    ///   ready with batches enabled; `.outOfRange` for more than 16
    ///   operations or members whose entries (one copy each) exceed a
    ///   sector; `.resourceExhausted` if the key table has no slot for the
    ///   new keys (and the reserved key) even after heavy collection, or if
    ///   the batch does not fit even after garbage collection (see
    ///   Docs/BATCHES.md, "Space"). After the intent is written: the first
    ///   error of a write, or `.failedPrecondition` if `body` made other
    ///   calls the second time; the batch is then rolled back (the tables
    ///   are rebuilt from flash) unless its commit record reached flash, and
    ///   ``lastWriteState`` says which (`.committed` or `.notWritten`;
    ///   `.uncertain` if the flash could not be read back).
    /// - Complexity: two runs of `body`; O(operations² + sectors x
    ///   records x redundancy) to plan; garbage collection only before the
    ///   intent; then (2 + members) entries per copy are programmed.
    public func commit(_ body: (inout Batch) throws(KVSError) -> Void) throws(KVSError) {
        lastWriteState = .notWritten
        guard state == .ready, mutable.pointee.batchesChecked else { throw .failedPrecondition }
        var batch = Batch(store: self)
        try body(&batch)
        let (memberCount, digest) = try batch.selectMembers()
        guard memberCount > 0 else {
            lastWriteState = .committed
            return
        }
        try makeRoomForBatch(batch)
        let intentID = lastTransactionID &+ 1
        let intent = BatchRecord.Intent(firstTransactionID: intentID &+ 1, memberCount: memberCount, digest: digest)
        let key = BatchRecord.key
        lastWriteState = .uncertain
        do throws(KVSError) {
            let value = intent.encoded
            try writeBatchEntry(key.span, value.span, deleted: false, transactionID: intentID)
            batch.writing = true
            batch.nextTransactionID = intent.firstTransactionID
            try body(&batch)
            if let failure = batch.failure { throw failure }
            guard batch.index == batch.count, batch.nextTransactionID == intent.commitTransactionID else {
                throw .failedPrecondition
            }
            try writeBatchEntry(key.span, Span(), deleted: true, transactionID: intent.commitTransactionID)
            lastWriteState = .committed
        } catch {
            abortBatch(committedAs: intent.commitTransactionID)
            throw error
        }
    }

    /// After a batch failed past its intent record: rebuilds the tables
    /// from flash, which rolls the batch back unless its commit record
    /// (`commitID`) is on flash, then repairs; sets ``lastWriteState``.
    func abortBatch(committedAs commitID: UInt32) {
        let key = BatchRecord.key
        reloadAfterFailedWrite(key.span, newerThan: nil)
        guard state != .notInitialized else {
            lastWriteState = .uncertain
            return
        }
        let descriptor = keyTable.find(hash: BatchRecord.keyHash)
        let committed = descriptor.map { keyTable.transactionID($0) == commitID && keyTable.isDeleted($0) } ?? false
        lastWriteState = committed ? .committed : .notWritten
    }

    /// Validates one operation of a batch (no write).
    func validateBatchOperation(_ key: Span<UInt8>, _ value: Span<UInt8>, isDelete: Bool) throws(KVSError)
        -> BatchOperation
    {
        try checkKeyToWrite(key)
        let size = batchEntrySize(keyLength: key.count, valueSize: isDelete ? nil : value.count)
        guard value.count <= sectorSize, size <= sectorSize else { throw .invalidArgument }
        var operation = BatchOperation()
        operation.hash = KeyHash.of(key)
        operation.entrySize = size
        operation.keyLength = key.count
        operation.isDelete = isDelete
        operation.restoreSize = batchEntrySize(keyLength: key.count, valueSize: nil)
        do throws(KVSError) {
            let found = try findEntry(key)
            if !keyTable.isDeleted(found.descriptor) {
                operation.present = true
                operation.restoreSize = try readEntry(found.descriptor, known: found.entry).header.entrySize
            }
        } catch .notFound {}
        return operation
    }

    /// Before the intent record: frees key-table slots (heavy collection,
    /// if the options allow) and garbage-collects until every record of the
    /// batch and of its worst-case rollback fits (``batchFits(_:)``).
    /// - Throws: `.resourceExhausted` if not; a collection error.
    private func makeRoomForBatch(_ batch: Batch) throws(KVSError) {
        func slotsNeeded() -> Int {
            var needed = keyTable.find(hash: BatchRecord.keyHash) == nil ? 1 : 0
            for index in 0..<batch.count where batch.operations[index].isMember {
                if keyTable.find(hash: batch.operations[index].hash) == nil { needed &+= 1 }
            }
            return needed
        }
        if keyTable.count &+ slotsNeeded() > capacity {
            guard options.garbageCollectionOnWrite == .asManySectorsAsNeeded else { throw .resourceExhausted }
            try makeRoomInKeyTable()
            guard keyTable.count &+ slotsNeeded() <= capacity else { throw .resourceExhausted }
        }
        // Refused at once when even collecting everything could not make room.
        var needed = 0
        for record in 0..<batchRecordCount(batch) { needed &+= batchRecordSize(batch, record) }
        let available = partition.size &- sectors.totalValidBytes &- sectorSize
        guard needed &* redundancy <= available else { throw .resourceExhausted }
        var rounds = 0
        while !batchFits(batch) {
            guard options.garbageCollectionOnWrite != .disabled, rounds <= partition.sectorCount &+ 2 else {
                throw .resourceExhausted
            }
            do throws(KVSError) {
                try garbageCollect(avoiding: AvoidList())
            } catch .notFound {
                throw .resourceExhausted
            }
            rounds &+= 1
        }
    }
}
