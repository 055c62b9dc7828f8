/// Something wrong with a flash image, found by ``ImageInspector`` or by
/// cross-checking it with the store.
public struct ImageProblem: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Bytes the store cannot parse or must refuse.
        case corruptEntry = "corrupt_entry"
        /// Written bytes in a sector whose first header is erased.
        case hiddenData = "hidden_data"
        /// A key with fewer copies than the redundancy.
        case missingCopies = "missing_copies"
        /// No erased sector is left for garbage collection.
        case noReserveSector = "no_reserve_sector"
        /// Data is present but nothing parses with the given magic/checksum.
        case formatMismatch = "format_mismatch"
        /// Intact entries of more keys than the key capacity.
        case keysNotLoaded = "keys_not_loaded"
        /// Entries written with another alignment than configured.
        case alignmentMismatch = "alignment_mismatch"
        /// The store's own view disagrees with the inspection (a bug).
        case inconsistent = "inconsistent"
    }

    public var kind: Kind
    public var sector: Int?
    /// Offset inside the sector.
    public var offset: Int?
    public var message: String

    public init(_ kind: Kind, sector: Int? = nil, offset: Int? = nil, _ message: String) {
        self.kind = kind
        self.sector = sector
        self.offset = offset
        self.message = message
    }

    /// Whether the store's initialization detects this kind of problem
    /// (and so reports `.dataLoss` and refuses writes until repaired).
    public var isDetectedByStore: Bool {
        switch kind {
        case .corruptEntry, .missingCopies, .noReserveSector, .formatMismatch, .keysNotLoaded: true
        // Initialization trusts a sector whose first header is erased (a
        // repair's deep scan finds hidden data); alignment only matters to
        // writes.
        case .hiddenData, .alignmentMismatch, .inconsistent: false
        }
    }
}
