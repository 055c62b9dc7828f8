/// What a correct store must produce for a plan, computed by replaying it
/// on a plain `Dictionary` (WORKLOADS.md sections 4.6 and 7; the model of
/// `workload_ref.py`).
public struct ModelOutcome: Sendable, Equatable {
    public var getOK = 0
    public var getNotFound = 0
    public var deleteOK = 0
    public var deleteNotFound = 0
    /// FNV-1a over the values of the successful gets, in op order.
    public var getDigest = FNV1a64.offsetBasis
    /// The value of every present key after the run.
    public var finalValues: [Int: [UInt8]] = [:]
    /// The store's transaction count after the run: one id per entry
    /// written (the K fill puts, every put whose value differs from the
    /// stored one, every successful delete).
    public var transactionCount = 0

    /// Number of present keys after the run.
    public var finalSize: Int { finalValues.count }

    /// The final digest over keys 0..<`keyCount`.
    public func finalDigest(keyCount: Int) -> UInt64 {
        FNV1a64.finalDigest(keyCount: keyCount) { finalValues[$0] }
    }
}

extension WorkloadPlan {
    /// Replays the fill and the op sequence on a `Dictionary`.
    ///
    /// Semantics of pw_kvs: a put of a value identical to the present one
    /// writes nothing and takes no transaction id; a get or delete of an
    /// absent key is NOT_FOUND; a delete writes a tombstone (one id).
    public func replayOnDictionary() -> ModelOutcome {
        var outcome = ModelOutcome()
        for key in 0..<keyCount {
            outcome.finalValues[key] = Array(value(at: fillValueOffset(key)))
        }
        outcome.transactionCount = keyCount
        var digest = FNV1a64()
        for operation in operations {
            let key = Int(operation.key)
            switch operation.kind {
            case .get:
                if let stored = outcome.finalValues[key] {
                    outcome.getOK += 1
                    digest.combine(stored)
                } else {
                    outcome.getNotFound += 1
                }
            case .put:
                let newValue = Array(value(at: operation.valueOffset))
                if outcome.finalValues[key] != newValue { outcome.transactionCount += 1 }
                outcome.finalValues[key] = newValue
            case .delete:
                if outcome.finalValues.removeValue(forKey: key) != nil {
                    outcome.deleteOK += 1
                    outcome.transactionCount += 1
                } else {
                    outcome.deleteNotFound += 1
                }
            }
        }
        outcome.getDigest = digest.value
        return outcome
    }
}
