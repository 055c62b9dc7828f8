import FlashKVS

/// A script operation that failed, with its line.
public struct ScriptFailure: Error, Equatable {
    public var line: Int
    public var operation: StoreScript.Operation
    public var error: KVSError

    public init(line: Int, operation: StoreScript.Operation, error: KVSError) {
        self.line = line
        self.operation = operation
        self.error = error
    }

    /// `put 'key'`, `maintain full`, ... for messages.
    public var operationDescription: String {
        switch operation {
        case .put(let key, _): "put \(displayKey(key))"
        case .delete(let key): "delete \(displayKey(key))"
        case .maintain(let kind): "maintain \(kind.rawValue)"
        case .reinit: "reinit"
        }
    }
}

extension StoreScript {
    /// Runs every line in order on `session`'s store; stops at the first
    /// failure (the lines before it stay applied).
    ///
    /// `maintain partial` with nothing to collect (`.notFound`) is not a
    /// failure. `reinit` fails with `.dataLoss` if the new store finds errors.
    /// - Returns: the number of operations run.
    /// - Throws: ``ScriptFailure`` with the line and the store's error.
    @discardableResult
    public func apply<Flash: FlashMemory>(to session: StoreSession<Flash>) throws(ScriptFailure) -> Int {
        for line in lines {
            do {
                try run(line.operation, on: session)
            } catch {
                throw ScriptFailure(line: line.number, operation: line.operation, error: error)
            }
        }
        return lines.count
    }

    private func run<Flash: FlashMemory>(_ operation: Operation, on session: StoreSession<Flash>) throws(KVSError) {
        let store = session.store
        switch operation {
        case .put(let key, let value):
            try store.put(key.span, value.span)
        case .delete(let key):
            try store.delete(key.span)
        case .maintain(.partial):
            do {
                try store.partialMaintenance()
            } catch .notFound {
                return
            }
        case .maintain(.full):
            try store.fullMaintenance()
        case .maintain(.heavy):
            try store.heavyMaintenance()
        case .reinit:
            try session.reinitialize()
            if let error = session.initializationError { throw error }
        }
    }
}
