// One sector of the scan: its entries, the corrupt data between them,
// another format's entries.
//
// Code size: `skipCorruptData`, with one caller, is inlined on devices
// (`@inline(__always)`; hosts keep it out of the scan loop, 0.7 % faster
// init); Docs/EMBEDDED.md, "Code size".

extension KeyValueStore {
    /// Parses the entries of one sector, adding them to the key table and
    /// setting the sector's writable bytes; skips over corrupt data to the
    /// next plausible header and marks the sector corrupt if any was found
    /// (counted in ``ScanReport/corruptSectors``).
    ///
    /// The last entry before the sector's erased space is the only one a
    /// power cut can have left half-programmed; it is read twice more and
    /// accepted only if both reads agree (unstable bits flicker), and,
    /// without a checksum, only if an erased tail does not reach into its
    /// key (``Entry/isErasedFromItsKey()``).
    /// - Returns: the number of entries that parsed and verified.
    func scanSector(_ sector: Int, _ depth: ScanDepth) -> Int {
        let base = sectors.base(of: sector)
        let end = base &+ sectorSize
        var address = base
        var corruptBytes = 0
        var parsed = 0
        var pending: ScannedEntry? = nil
        sectors.setWritable(sector, sectorSize)  // empty until an entry loads (reset left 0)
        while address < end {
            let loaded: ScannedEntry?
            do throws(KVSError) {
                loaded = try Entry.load(at: address, in: io)
            } catch .notFound {
                // Erased space ends the sector, if the rest is erased too
                // (pw_kvs stops here unchecked and loses entries after a gap).
                if address == base && depth == .trustingEmptySectors {
                    sectors.setVerified(sector, false)
                    break
                }
                if (try? io.isErased(from: address, to: end)) ?? false { break }
                lastScan.gapsFound &+= 1
                loaded = nil
            } catch {
                lastScan.corruptEntries &+= 1
                loaded = nil
            }
            // The previous entry is not the last one before erased space.
            if let previous = pending { corruptBytes &+= record(previous) }
            pending = loaded
            if let loaded {
                parsed &+= 1
                address &+= loaded.entry.header.entrySize
            } else {
                // Corrupt bytes up to the next plausible header.
                let found = skipCorruptData(at: address, sectorEnd: end)
                corruptBytes &+= (found ?? end) &- address
                guard let found else { break }
                address = found
            }
            sectors.setWritable(sector, end &- address)
        }
        // An entry still pending is the last before erased space or the
        // sector's end (corrupt data up to the end leaves none pending).
        if let last = pending {
            if !last.entry.isStable() || mutable.pointee.tornCopies?.isErasedFromItsKey(last.entry) == true {
                lastScan.corruptEntries &+= 1
                corruptBytes &+= last.entry.header.entrySize
                parsed &-= 1
            } else {
                corruptBytes &+= record(last)
            }
        }
        // Any corrupt byte: the sector is repaired (and errorDetected set).
        if corruptBytes > 0 {
            markCorrupt(sector)
            lastScan.corruptSectors &+= 1
        }
        return parsed
    }

    /// Records a loaded entry in the key table (pw_kvs
    /// `AddNewOrUpdateExisting`): a newer version replaces the descriptor, a
    /// copy of the current version adds an address, an older one is ignored.
    /// A second copy in the same sector counts as corrupt; a key that does
    /// not fit the table sets ``ScanReport/entriesNotLoaded``.
    /// - Returns: bytes to count as corrupt (the entry, if it is).
    private func record(_ scanned: ScannedEntry) -> Int {
        let entry = scanned.entry, header = entry.header
        let descriptor: Int
        if let found = keyTable.find(hash: scanned.keyHash) {
            let stored = keyTable.transactionID(found)
            if header.transactionID < stored { return 0 }
            if header.transactionID == stored {
                if placement.hasCopy(found, in: sectors.sector(of: entry.address)) {
                    lastScan.corruptEntries &+= 1
                    return header.entrySize
                }
                // No checksum: a copy torn by a cut erase or program still parses;
                // keep the copy that is the more programmed (see tornCopy).
                switch tornCopy(of: found, copy: 0, entry.address) {
                case nil:
                    if keyTable.addressCount(found) < redundancy { keyTable.addAddress(found, entry.address) }
                    return 0
                case entry.address:
                    return 0
                default:
                    break  // the recorded copy is the torn one: this copy replaces it
                }
            }
            descriptor = found
        } else {
            guard !keyTable.isFull else {
                errorDetected = true
                // A valid entry whose key does not fit the key table: never erase
                // this flash (see ScanReport.entriesNotLoaded), unless asked to.
                if discardingUnindexedData { return header.entrySize }
                lastScan.entriesNotLoaded &+= 1
                return 0
            }
            descriptor = keyTable.append(hash: scanned.keyHash)
        }
        keyTable.reset(descriptor, transactionID: header.transactionID, keyLength: Int(header.keyLength),
                   deleted: header.isTombstone, address: entry.address)
        return 0
    }

    /// Skips the data at `address`, where no entry loads, and finds the
    /// next 16-byte-aligned position in the sector that starts with a
    /// known magic. If the data at `address` looks like another format's
    /// entry (``isForeignEntry(_:at:sectorEnd:)``),
    /// notes it in ``ScanReport/unrecognizedData``; if its magic cannot be
    /// a known one (or cannot be read), in `sawUnknownMagic`.
    /// - Returns: that position, or nil. One 16-byte read, then one 4-byte
    ///   read per position; a read error skips the position.
    #if $Embedded
    @inline(__always)
    #endif
    private func skipCorruptData(at address: Int, sectorEnd: Int) -> Int? {
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        var whole = bytes.mutableSpan
        var candidate = address
        while candidate < sectorEnd {
            let atStart = candidate == address
            var span = whole._mutatingExtracting(first: atStart ? EntryHeader.size : 4)
            if (try? io.read(at: candidate, into: &span)) != nil {
                if !atStart {
                    if io.format(magic: EntryHeader.loadUInt32(span.span, 0)) != nil { return candidate }
                } else {
                    let header = EntryHeader(decoding: span.span)
                    if !EntryFormat.couldBeDamagedMagic(header.magic, ofAnyOf: formats) {
                        lastScan.sawUnknownMagic = true
                        if isForeignEntry(header, at: address, sectorEnd: sectorEnd) {
                            lastScan.unrecognizedData = true
                        }
                    }
                }
            } else if atStart {
                lastScan.sawUnknownMagic = true
            }
            candidate = alignUp(candidate &+ EntryHeader.size, EntryHeader.size)
        }
        return nil
    }

    /// Whether `header`, read at `address` where no entry of this store
    /// loads, and whose magic cannot be a damaged known one (the caller
    /// checked), starts another format's entries rather than random damage
    /// (``EntryHeader/isOfAnotherFormat(than:offset:sectorSize:nextMagic:erasedByte:)``):
    /// reads the 4 bytes where its size says the next entry starts.
    private func isForeignEntry(_ header: EntryHeader, at address: Int, sectorEnd: Int) -> Bool {
        let offset = address &- (sectorEnd &- sectorSize)  // in its sector
        guard header.fits(offset: offset, sectorSize: sectorSize) else { return false }
        let next = address &+ header.entrySize
        var nextMagic: UInt32? = nil
        if next &+ 4 <= sectorEnd {
            var bytes = InlineArray<4, UInt8>(repeating: 0)
            var span = bytes.mutableSpan
            guard (try? io.read(at: next, into: &span)) != nil else { return true }  // unreadable: not erasable
            nextMagic = EntryHeader.loadUInt32(span.span, 0)
        }
        return header.chains(
            to: nextMagic, formats: formats, offset: offset, sectorSize: sectorSize, erasedByte: partition.erasedByte)
    }
}
