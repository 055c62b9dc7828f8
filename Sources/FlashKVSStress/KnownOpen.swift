/// Classes of sweep findings that are known, explained and not fixed yet
/// (issue 17 stays open for them). The sweep prints them in their own
/// table, with counts and examples, and does not let them fail its exit
/// status; any other finding does. Each class is narrow: a finding of the
/// same kind outside its conditions is still a violation.
public enum KnownOpen: CaseIterable, Sendable {
    /// A large write refused with `.resourceExhausted` after a fault, with
    /// fewer reclaimable bytes than the write's copies need: the data
    /// survived and the store takes other writes. A new version whose later
    /// copies fit only once the old version is released is written (its
    /// first copy commits, then the old copies' sectors are collected);
    /// what remains is a first copy with no room beside the erased reserve,
    /// seen on 3 sectors with redundancy 2 after a heavy maintenance that
    /// persistent read errors stopped before it dropped the tombstones.
    case layoutLimitsLargeWrite
    /// Checksum none, an erase cut in the sweep's `eraseTailOnly` state
    /// (the sector's start intact, its tail erased): an entry cut through
    /// by the erased tail still parses, and without a checksum nothing on
    /// flash tells it from a good one. Use CRC-16 where erases can be cut.
    case noChecksumEraseTailOnly

    /// What the class is, for the report.
    public var summary: String {
        switch self {
        case .layoutLimitsLargeWrite:
            "a large write refused for space after a fault, fewer bytes reclaimable than its copies need (no room for the first copy beside the erased reserve; the data is intact)"
        case .noChecksumEraseTailOnly:
            "checksum none, erase cut with its start intact (eraseTailOnly): an entry damaged in place cannot be detected"
        }
    }

    /// The class `violation` belongs to, if any.
    public static func classify(_ violation: SweepViolation) -> KnownOpen? {
        if violation.workload.contains("-none") && violation.scenario.contains("eraseTailOnly") {
            return .noChecksumEraseTailOnly
        }
        if let refused = violation.refusedWrite, refused.reclaimableBytes < refused.valueBytes * refused.copies {
            return .layoutLimitsLargeWrite
        }
        return nil
    }
}
