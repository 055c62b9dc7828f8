import FlashKVS

/// Why a script could not run as one atomic batch: the line at fault (nil
/// when the batch as a whole was refused, such as for its size or for
/// space), and the store's error.
public struct BatchScriptFailure: Error, Equatable {
    public var line: StoreScript.Line?
    public var error: KVSError

    public init(line: StoreScript.Line?, error: KVSError) {
        self.line = line
        self.error = error
    }

    /// `put 'key'`, `delete 'key'`, or `the batch` for messages.
    public var operationDescription: String {
        guard let line else { return "the batch" }
        return ScriptFailure(line: line.number, operation: line.operation, error: error).operationDescription
    }
}

extension StoreScript {
    /// The first line that cannot be part of an atomic batch (`maintain`
    /// and `reinit`: a batch holds puts and deletes only), or nil.
    public var firstLineOutsideBatches: Line? {
        lines.first { line in
            switch line.operation {
            case .put, .delete: false
            case .maintain, .reinit: true
            }
        }
    }

    /// Runs every put and delete of the script as one atomic batch on
    /// `session`'s store (`KeyValueStore.commit`, Docs/BATCHES.md): the
    /// intent record, the members, the commit record. A key given twice:
    /// the last operation wins; a delete of a key that is absent writes
    /// nothing. The session must have been opened with batches enabled.
    ///
    /// A failing batch writes nothing when the failure is found while
    /// validating (a bad key or value, more than `BatchRecord.maxOperations`
    /// lines, members over one sector, no room); a write error after the
    /// intent record leaves the store to roll the batch back (the caller
    /// works on a copy of the image and drops it).
    /// - Returns: the number of operations (lines) in the batch.
    /// - Throws: ``BatchScriptFailure`` naming the line when one is at
    ///   fault; `.failedPrecondition` (no line) for a `maintain` or
    ///   `reinit` line (check ``firstLineOutsideBatches`` first for a
    ///   better message) or a store without batches enabled.
    @discardableResult
    public func applyAtomically<Flash: FlashMemory>(to session: StoreSession<Flash>) throws(BatchScriptFailure) -> Int {
        if let line = firstLineOutsideBatches { throw BatchScriptFailure(line: line, error: .failedPrecondition) }
        guard session.batchesEnabled else { throw BatchScriptFailure(line: nil, error: .failedPrecondition) }
        var current: Line? = nil
        do throws(KVSError) {
            try session.store.commit { batch throws(KVSError) in
                for line in lines {
                    current = line
                    switch line.operation {
                    case .put(let key, let value): try batch.put(key.span, value.span)
                    case .delete(let key): try batch.delete(key.span)
                    case .maintain, .reinit: throw .failedPrecondition
                    }
                }
                current = nil
            }
        } catch {
            throw BatchScriptFailure(line: current, error: error)
        }
        return lines.count
    }
}

extension StoreScript {
    /// For a batch refused as larger than one sector: the first line with
    /// which the members' entries (one copy each, header and padding
    /// included; a key given twice counted once, as its last operation; a
    /// delete of a key absent from `session`'s store not counted, as the
    /// store does) exceed the sector, and their bytes then. Nil if they
    /// never do.
    public func lineOverflowingSector<Flash: FlashMemory>(
        in session: StoreSession<Flash>
    ) -> (line: Line, bytes: Int)? {
        let store = session.store
        let unit = (Int(session.configuration.alignmentUnits) + 1) * EntryHeader.size
        var sizes: [[UInt8]: Int] = [:]
        for line in lines {
            switch line.operation {
            case .put(let key, let value):
                sizes[key] = (EntryHeader.size + key.count + value.count + unit - 1) / unit * unit
            case .delete(let key):
                let present = (try? store.valueSize(key.span)) != nil
                sizes[key] = present ? (EntryHeader.size + key.count + unit - 1) / unit * unit : 0
            case .maintain, .reinit: continue
            }
            let total = sizes.values.reduce(0, +)
            if total > session.flash.sectorSize { return (line, total) }
        }
        return nil
    }
}
