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
    /// (the sector's start intact, its tail erased), iteration lists a key
    /// nobody wrote and nothing else differs: a superseded entry whose key
    /// lies in the erased tail reads as another key (its key and value
    /// bytes erased) with a transaction id no other entry has. Torn copies
    /// of an entry that has another copy (same transaction id) are told
    /// apart and never served (KeyValueStore.tornCopy); this one has no
    /// twin, and the bytes on flash are those of a store where that key
    /// was written. FlashMemory's contract rules the state out (a sector
    /// of several erase blocks is erased first block first); use CRC-16
    /// where a driver cannot promise it.
    case noChecksumEraseTailOnly

    /// What the class is, for the report.
    public var summary: String {
        switch self {
        case .layoutLimitsLargeWrite:
            "a large write refused for space after a fault, fewer bytes reclaimable than its copies need (no room for the first copy beside the erased reserve; the data is intact)"
        case .noChecksumEraseTailOnly:
            "checksum none, erase cut with its start intact (eraseTailOnly): a superseded entry torn in its key is listed as a phantom key"
        }
    }

    /// The class `violation` belongs to, if any.
    public static func classify(_ violation: SweepViolation) -> KnownOpen? {
        if violation.workload.contains("-none") && violation.scenario.contains("eraseTailOnly"),
           let phantoms = violation.phantomKeys, !phantoms.isEmpty {
            return .noChecksumEraseTailOnly
        }
        if let refused = violation.refusedWrite, refused.reclaimableBytes < refused.valueBytes * refused.copies {
            return .layoutLimitsLargeWrite
        }
        return nil
    }
}
