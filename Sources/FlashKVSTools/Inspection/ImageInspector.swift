import FlashKVS

/// Reads a flash image the way the store's initialization does, without
/// writing anything, and reports every entry, each sector's usage and
/// every problem.
///
/// The walk follows the store's scan (pw_kvs `InitializeMetadata` with
/// FlashKVS's fixes): each sector is parsed from its start; an erased magic
/// ends a sector when the rest of it is erased (or when it is the sector's
/// first header: the sector is trusted to be empty); an entry that fails
/// (unknown magic, key length 0 or over 63, running past the sector, bad
/// checksum, a second copy in one sector), or written bytes after an erased
/// gap, are corrupt, and the scan resumes at the next 16-byte-aligned
/// position holding a configured magic; a plausible header whose magic no
/// damage turns a configured one into is another format's entry, which the
/// store refuses to erase unasked; an intact entry whose key does not fit
/// the key capacity is not loaded. The key table is rebuilt with the store's
/// rules (``KeyTableModel``) and entries are classified against it. Beyond
/// the store's initialization, it also reports data hidden in sectors that
/// look empty, and entries of another alignment.
public enum ImageInspector {
    /// Inspects all sectors of `flash` under `configuration` (its sector
    /// size and alignment are taken from the flash).
    /// - Throws: the flash's read error (one read per sector, plus 4-byte
    ///   reads for magic candidates that cross a sector end); `.outOfRange`
    ///   or `.invalidArgument` for a flash the partition rejects.
    /// - Complexity: O(flash size) time; O(sector size + entries) memory.
    public static func inspect<Flash: FlashMemory>(
        _ flash: Flash, configuration: StoreConfiguration
    ) throws(KVSError) -> ImageInspection {
        var scan = try Scan(flash: flash, configuration: configuration)
        try scan.run()
        return scan.result()
    }
}

/// What the scan counts, named as in the store's `ScanReport`.
struct ScanCounts: Equatable {
    var corruptEntries = 0
    var corruptSectors = 0
    var gapsFound = 0
    var entriesNotLoaded = 0
    var parsedEntries = 0
    var checksumFailures = 0
    /// Corrupt entries that look like another format's
    /// (`EntryHeader.isOfAnotherFormat`: they chain), with the first one's magic.
    var foreignEntries = 0
    var firstForeignMagic: UInt32 = 0
    /// Whether a corrupt entry's magic cannot be a configured one, even
    /// damaged (then a lone failed entry is no torn write of the store's).
    var sawUnknownMagic = false
}

/// The state of one inspection.
private struct Scan<Flash: FlashMemory> {
    var partition: FlashPartition<Flash>
    let configuration: StoreConfiguration
    /// The configured formats, the primary one first.
    let formats: [EntryFormat]
    let sectorSize: Int
    let sectorCount: Int
    var model: KeyTableModel
    var entries: [InspectedEntry] = []
    /// Key hash of each entry accepted by the key table, by address.
    var acceptedHashes: [Int: UInt32] = [:]
    /// The values of intact entries under the batches' reserved key that
    /// are not tombstones (intent records), by address.
    var intentValues: [Int: [UInt8]] = [:]
    var sectors: [InspectedSector] = []
    var sectorBytes: [UInt8] = []
    var counts = ScanCounts()

    init(flash: Flash, configuration: StoreConfiguration) throws(KVSError) {
        partition = try FlashPartition(flash, alignment: configuration.alignment, writable: false)
        var configuration = configuration
        configuration.sectorCount = partition.sectorCount
        self.configuration = configuration
        formats = configuration.formats
        sectorSize = partition.sectorSize
        sectorCount = partition.sectorCount
        model = KeyTableModel(
            capacity: configuration.capacity(sectorCount: sectorCount), redundancy: configuration.redundancy,
            sectorSize: sectorSize)
        model.erasedByte = partition.erasedByte
    }

    mutating func run() throws(KVSError) {
        for sector in 0..<sectorCount {
            var bytes = [UInt8](repeating: 0, count: sectorSize)
            var span = bytes.mutableSpan
            try partition.read(at: sector * sectorSize, into: &span)
            sectorBytes = bytes
            scanSector(sector)
        }
        model.forgetTornKeys()
    }

    // MARK: Pass 1: parse

    private enum Parsed {
        case erased
        case entry(EntryHeader, [UInt8])
        case corrupt(EntryHeader?, [UInt8]?, String)
    }

    private mutating func scanSector(_ sector: Int) {
        let base = sector * sectorSize
        var usage = InspectedSector(index: sector)
        var offset = 0
        var corruptBytes = 0
        scan: while offset < sectorSize {
            let failure: (header: EntryHeader?, key: [UInt8]?, reason: String)
            switch parse(at: offset) {
            case .erased:
                // The sector's first header erased: trusted to be empty.
                if offset == 0 || isErased(offset..<sectorSize) { break scan }
                counts.gapsFound += 1
                failure = (nil, nil, "written bytes after an erased gap (pw_kvs would lose them)")
            case .entry(let header, let key):
                let hash = KeyHash.of(key.span)
                let format = configuration.format(magic: header.magic) ?? configuration.primaryFormat
                if format.checksum == .none && isCutThroughItsKey(header, at: offset) {
                    // The store's rule (Entry.isErasedFromItsKey): not indexed, its bytes corrupt.
                    counts.corruptEntries += 1
                    entries.append(InspectedEntry(
                        address: base + offset, sector: sector, offset: offset, size: header.entrySize,
                        header: header, key: key, state: .corrupt,
                        detail: "the last entry before erased space, erased from its last key byte on: an entry "
                            + "an interrupted erase cut through (no checksum to tell otherwise)"))
                    corruptBytes += header.entrySize
                    offset += header.entrySize
                    usage.parseEnd = offset
                    continue
                }
                do {
                    let bytes = format.checksum == .none
                        ? Array(sectorBytes[offset..<(offset + header.entrySize)]) : nil
                    try model.add(hash: hash, header: header, address: base + offset, checksumFreeBytes: bytes)
                    counts.parsedEntries += 1
                    acceptedHashes[base + offset] = hash
                    if BatchRecord.isReserved(key.span), !header.isTombstone, header.valueSize <= 64 {
                        let start = offset + EntryHeader.size + key.count
                        intentValues[base + offset] = Array(sectorBytes[start..<(start + header.valueSize)])
                    }
                    entries.append(InspectedEntry(
                        address: base + offset, sector: sector, offset: offset, size: header.entrySize,
                        header: header, key: key, state: .stale))
                    offset += header.entrySize
                    usage.parseEnd = offset
                    continue
                } catch {
                    switch error {
                    case .tableFull:
                        counts.entriesNotLoaded += 1
                        counts.parsedEntries += 1
                        entries.append(InspectedEntry(
                            address: base + offset, sector: sector, offset: offset, size: header.entrySize,
                            header: header, key: key, state: .unindexed,
                            detail: "key not loaded: more than \(model.capacity) keys (--max-entries)"))
                        offset += header.entrySize
                        usage.parseEnd = offset
                        continue
                    case .duplicateInSector:
                        counts.corruptEntries += 1
                        failure = (header, key, "a copy of transaction \(header.transactionID) is already in this sector")
                    }
                }
            case .corrupt(let header, let key, let reason):
                counts.corruptEntries += 1
                failure = (header, key, reason)
            }
            let next = nextMagic(after: base + offset, sectorEnd: base + sectorSize).map { $0 - base } ?? sectorSize
            entries.append(InspectedEntry(
                address: base + offset, sector: sector, offset: offset, size: next - offset,
                header: failure.header, key: failure.key, state: .corrupt, detail: failure.reason))
            corruptBytes += next - offset
            offset = next
            usage.parseEnd = offset
        }
        usage.isCorrupt = corruptBytes > 0
        if usage.isCorrupt { counts.corruptSectors += 1 }
        var lastWritten = sectorSize - 1
        while lastWritten >= usage.parseEnd && sectorBytes[lastWritten] == partition.erasedByte { lastWritten -= 1 }
        usage.hiddenBytes = lastWritten + 1 - usage.parseEnd
        usage.freeBytes = sectorSize - usage.parseEnd - usage.hiddenBytes
        sectors.append(usage)
    }

    /// Decodes and checks the entry at `offset` of the current sector with
    /// the store's checks, in the store's order.
    private mutating func parse(at offset: Int) -> Parsed {
        guard offset + EntryHeader.size <= sectorSize else { return .erased }
        let headerBytes = Array(sectorBytes[offset..<(offset + EntryHeader.size)])
        let header: EntryHeader
        do {
            header = try EntryHeader.parse(headerBytes.span, formats: formats, erasedByte: partition.erasedByte)
        } catch .notFound {
            return .erased
        } catch {
            let raw = EntryHeader(decoding: headerBytes.span)
            if !EntryFormat.couldBeDamagedMagic(raw.magic, ofAnyOf: formats) { counts.sawUnknownMagic = true }
            let next = offset + raw.entrySize
            let nextMagic = next + 4 <= sectorSize
                ? sectorBytes[next..<(next + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : nil
            if raw.isOfAnotherFormat(than: formats, offset: offset, sectorSize: sectorSize, nextMagic: nextMagic,
                                     erasedByte: partition.erasedByte) {
                if counts.foreignEntries == 0 { counts.firstForeignMagic = raw.magic }
                counts.foreignEntries += 1
                return .corrupt(raw, nil, "an entry of another format (magic \(hex32(raw.magic)))")
            }
            return raw.keyLength > EntryHeader.maxKeyLength
                ? .corrupt(raw, nil, "key length \(raw.keyLength) is over \(EntryHeader.maxKeyLength)")
                : .corrupt(raw, nil, "unknown magic \(hex32(raw.magic))")
        }
        let keyLength = Int(header.keyLength)
        guard offset + header.entrySize <= sectorSize else {
            return .corrupt(header, nil, "an entry of \(header.entrySize) bytes would run past the sector end")
        }
        guard keyLength > 0 else { return .corrupt(header, nil, "key length 0") }
        let key = Array(sectorBytes[(offset + EntryHeader.size)..<(offset + EntryHeader.size + keyLength)])
        let entryBytes = Array(sectorBytes[offset..<(offset + header.entrySize)])
        // `parse` accepted the magic, so it is a configured one.
        let format = configuration.format(magic: header.magic) ?? configuration.primaryFormat
        guard format.entryFormat.verifyEntry(entryBytes.span) else {
            counts.checksumFailures += 1
            return .corrupt(header, key, "\(format.checksum.rawValue) checksum mismatch")
        }
        return .entry(header, key)
    }

    /// Whether the entry at `offset` is the last before the sector's
    /// erased space (or its end) and its bytes read erased from its last
    /// key byte on: without a checksum, an entry whose key an interrupted
    /// erase cut through.
    private func isCutThroughItsKey(_ header: EntryHeader, at offset: Int) -> Bool {
        let end = offset + header.entrySize
        return isErased(end..<sectorSize) && isErased((offset + EntryHeader.size + Int(header.keyLength) - 1)..<end)
    }

    private func isErased(_ range: Range<Int>) -> Bool {
        for index in range where sectorBytes[index] != partition.erasedByte { return false }
        return true
    }

    /// The next 16-byte-aligned partition address after `address`, before
    /// `sectorEnd`, whose first 4 bytes hold a configured magic (the
    /// store's `ScanForEntry`).
    private mutating func nextMagic(after address: Int, sectorEnd: Int) -> Int? {
        let base = sectorEnd - sectorSize
        var candidate = (address + EntryHeader.size + 15) / 16 * 16
        while candidate < sectorEnd {
            var word = [UInt8](repeating: 0, count: 4)
            if candidate + 4 <= sectorEnd {
                for index in 0..<4 { word[index] = sectorBytes[candidate - base + index] }
            } else {
                var span = word.mutableSpan
                // A position whose bytes cannot be read is skipped, as in the store.
                if (try? partition.read(at: candidate, into: &span)) == nil {
                    candidate += EntryHeader.size
                    continue
                }
            }
            let value = UInt32(word[0]) | UInt32(word[1]) << 8 | UInt32(word[2]) << 16 | UInt32(word[3]) << 24
            if configuration.format(magic: value) != nil { return candidate }
            candidate += EntryHeader.size
        }
        return nil
    }

    // MARK: Pass 2: classify

    func result() -> ImageInspection {
        var entries = entries
        var sectors = sectors
        var indexByAddress: [Int: Int] = [:]
        for (index, entry) in entries.enumerated() { indexByAddress[entry.address] = index }
        var recordByHash: [UInt32: KeyTableModel.Record] = [:]
        var keptAddresses: Set<Int> = []
        for record in model.records {
            recordByHash[record.hash] = record
            keptAddresses.formUnion(record.addresses)
        }
        for index in entries.indices where entries[index].state == .stale {
            let address = entries[index].address
            if keptAddresses.contains(address), let hash = acceptedHashes[address], let record = recordByHash[hash] {
                entries[index].state = record.isDeleted ? .deleted : .live
            } else if model.tornAddresses.contains(address), let header = entries[index].header {
                entries[index].detail = "a torn copy of transaction \(header.transactionID): bits erased where "
                    + "another copy has them programmed (no checksum to tell them apart otherwise)"
            } else if let hash = acceptedHashes[address], let record = recordByHash[hash],
                      let header = entries[index].header {
                entries[index].detail = header.transactionID == record.transactionID
                    ? "extra copy beyond --redundancy \(configuration.redundancy)"
                    : "superseded by transaction \(record.transactionID)"
            }
        }
        for entry in entries {
            switch entry.state {
            case .live, .deleted: sectors[entry.sector].validBytes += entry.size
            case .stale: sectors[entry.sector].staleBytes += entry.size
            case .corrupt: sectors[entry.sector].corruptBytes += entry.size
            case .unindexed: sectors[entry.sector].unindexedBytes += entry.size
            }
        }
        for sector in sectors.indices { sectors[sector].regions = regions(of: sectors[sector], entries: entries) }

        var keys: [ImageInspection.Key] = []
        var lastTransactionID: UInt32 = 0
        var newestAddress: Int? = nil
        for record in model.records {
            let key = indexByAddress[record.addresses[0]].flatMap { entries[$0].key } ?? []
            keys.append(ImageInspection.Key(
                key: key, transactionID: record.transactionID, isDeleted: record.isDeleted, addresses: record.addresses))
            if record.transactionID > lastTransactionID {
                lastTransactionID = record.transactionID
                newestAddress = record.addresses.last
            }
        }
        var inspection = ImageInspection(
            configuration: configuration, sectorSize: sectorSize, sectorCount: sectorCount, entries: entries,
            sectors: sectors, keys: keys, problems: [], lastTransactionID: lastTransactionID,
            lastNewSector: newestAddress.map { $0 / sectorSize } ?? 0, scanCounts: counts)
        inspection.problems = problems(of: inspection)
        inspection.classifyBatches(intentValues: intentValues)
        return inspection
    }

    private func regions(of usage: InspectedSector, entries: [InspectedEntry]) -> [InspectedSector.Region] {
        var regions: [InspectedSector.Region] = []
        func add(_ offset: Int, _ length: Int, _ kind: InspectedSector.Region.Kind) {
            guard length > 0 else { return }
            if let last = regions.last, last.kind == kind, last.offset + last.length == offset {
                regions[regions.count - 1].length += length
            } else {
                regions.append(InspectedSector.Region(offset: offset, length: length, kind: kind))
            }
        }
        for entry in entries where entry.sector == usage.index {
            switch entry.state {
            case .live, .deleted: add(entry.offset, entry.size, .valid)
            case .stale: add(entry.offset, entry.size, .stale)
            case .corrupt: add(entry.offset, entry.size, .corrupt)
            case .unindexed: add(entry.offset, entry.size, .unindexed)
            }
        }
        add(usage.parseEnd, usage.hiddenBytes, .hidden)
        add(usage.parseEnd + usage.hiddenBytes, usage.freeBytes, .free)
        return regions
    }

    // MARK: Problems

    private func problems(of inspection: ImageInspection) -> [ImageProblem] {
        var problems: [ImageProblem] = []
        // The store's rule: nothing parses, and it is more than one torn
        // first write of the store's could leave.
        let oneTornWrite = counts.corruptEntries + counts.gapsFound == 1 && counts.corruptSectors == 1
            && !counts.sawUnknownMagic
        if counts.parsedEntries == 0 && counts.corruptSectors > 0 && !oneTornWrite {
            problems.append(ImageProblem(.formatMismatch, formatMismatchMessage(inspection)))
        } else if counts.foreignEntries > 0 {
            problems.append(ImageProblem(
                .formatMismatch,
                "\(counted(counts.foreignEntries, "entry", plural: "entries")) \(counts.foreignEntries == 1 ? "looks" : "look") like another format's (first magic "
                    + "\(hex32(counts.firstForeignMagic)), which no damage turns \(magicOptions) into): the store "
                    + "neither writes over nor erases them (add --magic \(hex32(counts.firstForeignMagic)) to read "
                    + "them; repair --discard-unindexed erases them)"))
        }
        let unindexed = inspection.entries.filter { $0.state == .unindexed }
        if let first = unindexed.first {
            problems.append(ImageProblem(
                .keysNotLoaded, sector: first.sector, offset: first.offset,
                "\(counted(unindexed.count, "intact entry", plural: "intact entries")) \(unindexed.count == 1 ? "holds" : "hold") keys beyond --max-entries \(model.capacity): reopen with a larger "
                    + "--max-entries (until then the store writes and erases nothing)"))
        }
        for entry in inspection.entries where entry.state == .corrupt {
            problems.append(ImageProblem(
                .corruptEntry, sector: entry.sector, offset: entry.offset,
                "sector \(entry.sector) offset \(entry.offset): \(counted(entry.size, "corrupt byte")) (\(entry.detail ?? "unreadable"))"
                    + (entry.key.map { ", key \(displayKey($0))" } ?? "")))
        }
        for usage in inspection.sectors where usage.hiddenBytes > 0 {
            problems.append(ImageProblem(
                .hiddenData, sector: usage.index, offset: usage.parseEnd,
                "sector \(usage.index): \(counted(usage.hiddenBytes, "byte")) of data in a sector whose first header is erased; "
                    + "the store takes it for empty (a repair erases it), and writing there fails"))
        }
        let redundancy = configuration.redundancy
        let missing = inspection.keys.filter { $0.addresses.count < redundancy }
        if missing.count > 1 && missing.count == inspection.keys.count {
            let most = missing.map(\.addresses.count).max() ?? 1
            problems.append(ImageProblem(
                .missingCopies,
                "every key (\(missing.count)) has fewer than --redundancy \(redundancy) copies; "
                    + "the image was probably written with --redundancy \(most)"))
        } else {
            for key in missing {
                problems.append(ImageProblem(
                    .missingCopies, sector: key.addresses.first.map { $0 / sectorSize },
                    "key \(displayKey(key.key)) has \(key.addresses.count) of \(redundancy) copies"))
            }
        }
        if !inspection.sectors.contains(where: { $0.isEmpty(sectorSize: sectorSize) }) {
            problems.append(ImageProblem(
                .noReserveSector, "no erased sector: garbage collection has no reserve sector to move data into"))
        }
        let units = configuration.alignmentUnits
        let misaligned = inspection.entries.filter {
            $0.state != .corrupt && $0.state != .unindexed && $0.header?.alignmentUnits != units
        }
        if let first = misaligned.first, let header = first.header {
            problems.append(ImageProblem(
                .alignmentMismatch, sector: first.sector, offset: first.offset,
                "\(counted(misaligned.count, "entry", plural: "entries")) \(misaligned.count == 1 ? "was" : "were") written with a \(header.alignmentBytes)-byte entry alignment, "
                    + "but --alignment \(configuration.alignment) writes \((Int(units) + 1) * 16)-byte entries; "
                    + "new writes may fail"))
        }
        return problems
    }

    /// `--magic 0x...`, once per configured format.
    private var magicOptions: String {
        configuration.allFormats.map { "--magic \(hex32($0.magic))" }.joined(separator: " or ")
    }

    private func formatMismatchMessage(_ inspection: ImageInspection) -> String {
        var message = "no entry parses with \(configuration.formatOptions), but "
            + "\(counted(counts.corruptSectors, "sector")) \(counts.corruptSectors == 1 ? "holds" : "hold") data"
        if counts.checksumFailures > 0 {
            if configuration.additionalFormats.isEmpty {
                let other = configuration.checksum == .crc16 ? "none" : "crc16"
                message += "; every entry with this magic fails its checksum: was it written with --checksum \(other)?"
            } else {
                message += "; every entry with a configured magic fails its checksum: check the --checksum of each --magic"
            }
            return message
        }
        var counts: [UInt32: Int] = [:]
        for entry in inspection.entries where entry.offset == 0 {
            if let magic = entry.header?.magic { counts[magic, default: 0] += 1 }
        }
        if let (magic, _) = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
            message += "; sectors start with \(hex32(magic)): was the image written with --magic \(hex32(magic))"
                + " (or another --sector-size)?"
        }
        return message
    }
}

/// `0x` and 8 lowercase hex digits, as the tool prints magics.
public func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

/// A key for messages: quoted text when it is printable UTF-8, else hex.
public func displayKey(_ key: [UInt8]) -> String {
    if let text = String(validating: key, as: UTF8.self),
       text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
        return "'\(text)'"
    }
    return "0x" + Hex.encode(key)
}

/// A key as tables print it (`list`, `dump`), telling every key apart:
/// bare text when it is printable UTF-8 with no spaces that starts
/// neither with `"` nor with `0x`; otherwise a JSON string literal when it
/// is UTF-8 (escapes show control characters and spaces at the ends), or
/// `0x` and hex.
public func tableKey(_ key: [UInt8]) -> String {
    guard let text = String(validating: key, as: UTF8.self) else { return "0x" + Hex.encode(key) }
    let plain = !text.isEmpty && !text.hasPrefix("\"") && !text.lowercased().hasPrefix("0x")
        && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !$0.properties.isWhitespace }
    return plain ? text : JSON.quoted(text)
}
