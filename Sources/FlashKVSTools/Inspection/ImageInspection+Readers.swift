extension ImageInspection {
    /// The problems that mean the image holds data a reader of this
    /// configuration cannot show: entries of another format (or nothing
    /// parsing at all: another format or geometry), keys beyond the
    /// capacity, data hidden in sectors that look empty (often another
    /// sector size).
    public var unreadableDataProblems: [ImageProblem] {
        problems.filter { [.formatMismatch, .keysNotLoaded, .hiddenData].contains($0.kind) }
    }

    /// A key whose newest entry on flash is corrupt: its newest value is lost.
    public struct CorruptKey: Equatable, Sendable {
        /// The key as the corrupt entry holds it (it may be damaged too).
        public var key: [UInt8]
        /// The corrupt entry.
        public var entry: InspectedEntry
        /// Whether the store still has an older value of the key (which it
        /// reads instead); false when the key reads as missing or deleted.
        public var olderValueKept: Bool
    }

    /// The keys whose newest entry is corrupt (a readable key and a
    /// transaction id newer than the version the store keeps, or no kept
    /// version), in address order, each once.
    public var keysWithCorruptNewestEntry: [CorruptKey] {
        var result: [CorruptKey] = []
        for entry in entries where entry.state == .corrupt {
            guard let key = entry.key, let header = entry.header, !result.contains(where: { $0.key == key }) else { continue }
            let kept = keys.first { $0.key == key }
            if let kept, kept.transactionID >= header.transactionID { continue }
            result.append(CorruptKey(key: key, entry: entry, olderValueKept: kept.map { !$0.isDeleted } ?? false))
        }
        return result
    }
}
