import FlashKVS

/// The store's key table rebuilt from a scan, following pw_kvs
/// `AddNewOrUpdateExisting` rule for rule: one record per key hash in
/// first-seen order; a higher transaction id replaces the record; an equal
/// one adds a copy (refused in a sector that already holds one; ignored
/// beyond the redundancy); a lower one is stale. Entries without a checksum
/// that are a torn version of another entry with the same transaction id
/// are not indexed, as the store does (``tornOne(_:_:erasedByte:)``).
struct KeyTableModel {
    struct Record {
        var hash: UInt32
        var transactionID: UInt32
        var isDeleted: Bool
        var addresses: [Int]
    }

    enum Refusal: Error {
        case tableFull
        case duplicateInSector
    }

    let capacity: Int
    let redundancy: Int
    let sectorSize: Int
    private(set) var records: [Record] = []
    private var indexByHash: [UInt32: Int] = [:]
    /// The bytes of each entry without a checksum, by address.
    private var checksumFreeBytes: [Int: [UInt8]] = [:]
    /// Entries without a checksum left out as torn copies, by address.
    private(set) var tornAddresses: Set<Int> = []
    var erasedByte: UInt8 = 0xFF

    init(capacity: Int, redundancy: Int, sectorSize: Int) {
        self.capacity = capacity
        self.redundancy = redundancy
        self.sectorSize = sectorSize
    }

    /// Records an entry read at `address`; `checksumFreeBytes` are its bytes
    /// when its format has no checksum.
    mutating func add(hash: UInt32, header: EntryHeader, address: Int, checksumFreeBytes bytes: [UInt8]? = nil)
        throws(Refusal)
    {
        if let bytes { checksumFreeBytes[address] = bytes }
        guard let position = indexByHash[hash] else {
            guard records.count < capacity else { throw .tableFull }
            indexByHash[hash] = records.count
            records.append(Record(hash: hash, transactionID: header.transactionID, isDeleted: header.isTombstone,
                                  addresses: [address]))
            return
        }
        let stored = records[position].transactionID
        if header.transactionID > stored {
            records[position] = Record(hash: hash, transactionID: header.transactionID, isDeleted: header.isTombstone,
                                       addresses: [address])
        } else if header.transactionID == stored {
            let sector = address / sectorSize
            for existing in records[position].addresses where existing / sectorSize == sector {
                throw .duplicateInSector
            }
            let first = records[position].addresses[0]
            if bytes != nil, let torn = tornOne(first, address) {
                tornAddresses.insert(torn)
                if torn == first { records[position].addresses = [address] }
                return
            }
            if records[position].addresses.count < redundancy { records[position].addresses.append(address) }
        }
    }

    /// Of the entries without a checksum at `first` and `second`, the one an
    /// interruption left torn: the same header, and where the bytes differ
    /// its bits are erased and the other's programmed, never the reverse
    /// (the store's `tornCopy`). Nil if equal, neither, or either has a
    /// checksum.
    func tornOne(_ first: Int, _ second: Int) -> Int? {
        guard let a = checksumFreeBytes[first], let b = checksumFreeBytes[second], a.count == b.count,
              a.prefix(EntryHeader.size) == b.prefix(EntryHeader.size) else { return nil }
        var onlyInFirst: UInt8 = 0
        var onlyInSecond: UInt8 = 0
        for (x, y) in zip(a, b) {
            onlyInFirst |= (x ^ erasedByte) & ~(y ^ erasedByte)
            onlyInSecond |= (y ^ erasedByte) & ~(x ^ erasedByte)
        }
        if onlyInFirst == 0 { return onlyInSecond == 0 ? nil : first }
        return onlyInSecond == 0 ? second : nil
    }

    /// Two keys never share a transaction id: where two do and one's entry
    /// is the other's torn, forgets the torn key, the last record taking its
    /// place and being checked in turn (the store's `forgetTornKeys`, rule
    /// for rule).
    mutating func forgetTornKeys() {
        var key = 0
        while key < records.count {
            let address = records[key].addresses[0]
            var isTorn = false
            for other in records.indices where other != key && records[other].transactionID == records[key].transactionID {
                if tornOne(records[other].addresses[0], address) == address { isTorn = true }
            }
            if isTorn {
                tornAddresses.insert(address)
                remove(key)
            } else {
                key += 1
            }
        }
    }

    /// Removes record `position`; the last one takes its place.
    private mutating func remove(_ position: Int) {
        let last = records.removeLast()
        if position < records.count { records[position] = last }
        indexByHash = [:]
        for (index, record) in records.enumerated() { indexByHash[record.hash] = index }
    }
}
