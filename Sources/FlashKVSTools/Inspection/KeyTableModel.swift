import FlashKVS

/// The store's key table rebuilt from a scan, following pw_kvs
/// `AddNewOrUpdateExisting` rule for rule: one record per key hash in
/// first-seen order; a higher transaction id replaces the record; an equal
/// one adds a copy (refused in a sector that already holds one; ignored
/// beyond the redundancy); a lower one is stale.
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

    init(capacity: Int, redundancy: Int, sectorSize: Int) {
        self.capacity = capacity
        self.redundancy = redundancy
        self.sectorSize = sectorSize
    }

    /// Records an entry read at `address`.
    mutating func add(hash: UInt32, header: EntryHeader, address: Int) throws(Refusal) {
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
            if records[position].addresses.count < redundancy { records[position].addresses.append(address) }
        }
    }
}
