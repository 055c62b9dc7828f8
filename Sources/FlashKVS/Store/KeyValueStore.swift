// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): `failedReads` is kept out of line on
// devices (inlined, the state pointer it reads stayed live through the
// loops of its callers: 64 B more); hosts inline it.

/// A persistent key-value store on NOR flash, byte-compatible with Pigweed's
/// pw_kvs.
///
/// Every put or delete appends a self-describing entry (header, key, value)
/// to a sector; the newest transaction id of a key wins. With redundancy R,
/// each write stores R copies in distinct sectors. Stale entries are
/// reclaimed by garbage collection, which always keeps one erased sector in
/// reserve; new data rotates around the partition to level wear.
///
/// All RAM is allocated by the initializer, sized by `capacity` (keys),
/// `maxSectors` and `redundancy`; reads and writes allocate nothing. Call
/// ``initialize()`` before use; it scans the flash and rebuilds the tables.
///
/// Not thread-safe: use one store from one thread (or under a lock).
public final class KeyValueStore<Flash: FlashMemory> {
    /// The store's initialization state.
    public enum State: Sendable {
        /// Before a successful ``KeyValueStore/initialize()``, or after one
        /// that failed its configuration checks.
        case notInitialized
        /// Errors were found and not repaired: reads work, writes throw
        /// `.failedPrecondition` until maintenance repairs them.
        case needsMaintenance
        /// Reads and writes work.
        case ready
    }

    /// The flash region the store owns.
    public internal(set) var partition: FlashPartition<Flash> {
        get { io.state.pointee.partition }
        _modify { yield &io.state.pointee.partition }
    }
    public let options: Options
    /// Maximum number of keys, deleted keys included (pw_kvs `max_size`).
    public let capacity: Int
    /// Maximum number of sectors the store can manage.
    public let maxSectors: Int
    /// Copies of every entry, each in a different sector.
    public let redundancy: Int
    public internal(set) var state: State {
        get { mutable.pointee.state }
        _modify { yield &mutable.pointee.state }
    }
    /// Whether errors were found that are not repaired yet.
    public internal(set) var errorDetected: Bool {
        get { mutable.pointee.errorDetected }
        _modify { yield &mutable.pointee.errorDetected }
    }
    /// What the last ``put(_:_:)`` or ``delete(_:)`` left on flash, also
    /// when it threw (pw_kvs cannot tell, spec 7.2 B4-bis).
    public internal(set) var lastWriteState: WriteState {
        get { mutable.pointee.lastWriteState }
        _modify { yield &mutable.pointee.lastWriteState }
    }
    /// Whether the last ``put(_:_:)`` or ``delete(_:)`` made its new version
    /// current (`lastWriteState == .committed`).
    public var lastWriteCommitted: Bool { lastWriteState == .committed }
    /// What the last full scan of the flash found.
    public internal(set) var lastScan: ScanReport {
        get { mutable.pointee.lastScan }
        _modify { yield &mutable.pointee.lastScan }
    }

    /// The partition as entries read and write it, with the formats.
    let io: FlashIO<Flash>
    var formats: [EntryFormat] { io.formats }
    let keyTable: KeyTable
    let sectors: SectorTable
    /// Addresses reserved for the copies of the entry being written, one
    /// per copy (indexed by copies, `0..<redundancy`: never checked).
    let reserved: UnsafeMutablePointer<Int>
    var lastTransactionID: UInt32 {
        get { mutable.pointee.lastTransactionID }
        _modify { yield &mutable.pointee.lastTransactionID }
    }
    var sectorEraseCount: Int {
        get { mutable.pointee.sectorEraseCount }
        _modify { yield &mutable.pointee.sectorEraseCount }
    }
    var corruptSectorsRecovered: Int {
        get { mutable.pointee.corruptSectorsRecovered }
        _modify { yield &mutable.pointee.corruptSectorsRecovered }
    }
    var missingRedundantEntriesRecovered: Int {
        get { mutable.pointee.missingRedundantEntriesRecovered }
        _modify { yield &mutable.pointee.missingRedundantEntriesRecovered }
    }
    /// Set while ``repairDiscardingUnindexedData()`` scans: entries of keys
    /// that do not fit count as corrupt, so that their sectors are collected.
    var discardingUnindexedData: Bool {
        get { mutable.pointee.discardingUnindexedData }
        _modify { yield &mutable.pointee.discardingUnindexedData }
    }
    /// Flash reads that failed since the store was created.
    #if $Embedded
    @inline(never)
    #endif
    var failedReads: Int { io.state.pointee.failedReads }
    /// The error of the last read that failed twice.
    var lastReadError: KVSError { io.state.pointee.lastReadError }
    /// Alignment units written into new entries' headers.
    let alignmentUnits: UInt8
    /// Alignment of new entries: the partition alignment rounded up to 16.
    let entryAlignment: Int

    /// The mutable state, at the start of the store's one allocation,
    /// which also holds the tables and `reserved`: reached through a
    /// pointer, so its accesses need no dynamic exclusivity checks (class
    /// stored properties do, and in the hot paths they cost more than the
    /// work).
    let mutable: UnsafeMutablePointer<MutableState>

    struct MutableState {
        var state: State = .notInitialized
        var errorDetected: Bool = false
        var lastWriteState: WriteState = WriteState.notWritten
        /// Whether the last scan ran `batchRecovery` (beside the other
        /// one-byte fields: no padding).
        var batchesChecked = false
        var lastScan: ScanReport = ScanReport()
        /// ``KeyValueStore/discardingUnindexedData`` (after `lastScan`: in
        /// its padding).
        var discardingUnindexedData = false
        var lastTransactionID: UInt32 = 0
        var sectorEraseCount: Int = 0
        var corruptSectorsRecovered: Int = 0
        var missingRedundantEntriesRecovered: Int = 0
        /// Set by ``enableBatches()``: rolls back a torn batch after a scan
        /// and around repairs (KeyValueStore+BatchRecovery.swift); returns
        /// whether a torn batch is still unresolved. Nil in firmware that
        /// never calls it, which then links no batch code. A non-capturing
        /// closure: a function pointer with no context, nothing allocated.
        var batchRecovery: ((KeyValueStore<Flash>) -> Bool)? = nil
        /// Set by the initializers when a format has no checksum: the
        /// torn-copy checks of such formats (KeyValueStore+TornCopies.swift).
        /// Nil otherwise; firmware whose formats visibly all have a checksum
        /// links none of that code.
        var tornCopies: TornCopyChecks? = nil
    }

    /// Creates a store over `partition`. Does no flash I/O.
    ///
    /// - Parameters:
    ///   - formats: entry formats to read; the first is used for writing.
    ///   - capacity: maximum keys, 1...32767.
    ///   - maxSectors: maximum sectors (default: the partition's count).
    ///   - redundancy: copies per entry, 1 or more.
    /// - Throws: `.invalidArgument` if `formats` is empty, a count is out of
    ///   range, or the partition alignment is not a divisor or multiple of
    ///   16 up to 256 (the entry format cannot express it), or the sector
    ///   size is not a multiple of the partition alignment.
    /// - Complexity: allocates O(capacity x redundancy + maxSectors) bytes.
    @inline(__always)  // see "Inlined initializers" below
    #if !$Embedded
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public convenience init(
        partition: FlashPartition<Flash>, formats: [EntryFormat], capacity: Int, maxSectors: Int? = nil,
        redundancy: Int = 1, options: Options = Options()
    ) throws(KVSError) {
        try self.init(configuring: partition, formats: formats, capacity: capacity, maxSectors: maxSectors,
                      redundancy: redundancy, options: options)
        if hasChecksumFreeFormat { installTornCopyChecks() }
    }

    /// Creates a store with a single entry format.
    @inline(__always)  // see "Inlined initializers" below
    #if !$Embedded
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public convenience init(
        partition: FlashPartition<Flash>, format: EntryFormat, capacity: Int, maxSectors: Int? = nil,
        redundancy: Int = 1, options: Options = Options()
    ) throws(KVSError) {
        try self.init(configuring: partition, formats: [format], capacity: capacity, maxSectors: maxSectors,
                      redundancy: redundancy, options: options)
        if format.checksum.byteCount == 0 { installTornCopyChecks() }
    }

    // Inlined initializers: the two public initializers are inlined into
    // the caller, so that where the compiler sees every format's checksum
    // (a firmware's constant format with a checksum), the torn-copy checks
    // that only checksum-free formats need are not linked (0.45 kB of the
    // minimal device image; KeyValueStore+TornCopies.swift). On devices
    // their common part is inlined with them: with a firmware's constant
    // configuration its checks and its allocation's layout fold (0.5 kB of
    // the minimal image); each call site of an initializer has its copy.

    /// The initializers' common part.
    #if $Embedded
    @inline(__always)
    #endif
    private init(
        configuring partition: FlashPartition<Flash>, formats: [EntryFormat], capacity: Int, maxSectors: Int?,
        redundancy: Int, options: Options
    ) throws(KVSError) {
        let maxSectors = maxSectors ?? partition.sectorCount
        let alignment = partition.alignment
        guard !formats.isEmpty, (1...32767).contains(capacity), maxSectors >= 1, maxSectors <= 65535,
              redundancy >= 1, redundancy <= 255,
              (1...256).contains(alignment), 16 % alignment == 0 || alignment % 16 == 0,
              partition.sectorSize % alignment == 0
        else { throw .invalidArgument }
        self.capacity = capacity
        self.maxSectors = maxSectors
        self.redundancy = redundancy
        self.options = options
        self.alignmentUnits = EntryHeader.alignmentUnits(forPartitionAlignment: alignment)
        self.entryAlignment = (Int(alignmentUnits) &+ 1) &* 16  // alignUp(alignment, 16), as the header's units say
        // Entries start at multiples of 16 within sectors: with sectors that
        // are multiples of 16 in a partition of at most 1 MiB, an address
        // fits 16 bits as a count of 16-byte units.
        let narrowAddresses = partition.sectorSize % 16 == 0 && partition.size <= 0x10000 &* 16
        // One allocation: the state, the flash I/O state, the key table, the
        // sector table, then the reserved addresses, each part starting at a
        // multiple of 8 (rounded inline: the sizes of the first two fold).
        func align8(_ size: Int) -> Int { (size &+ 7) & ~7 }
        let ioStart = align8(MemoryLayout<MutableState>.stride)
        let keysStart = ioStart &+ align8(MemoryLayout<FlashIO<Flash>.State>.stride)
        let sectorsStart = keysStart &+ align8(
            KeyTable.byteCount(capacity: capacity, redundancy: redundancy, narrowAddresses: narrowAddresses))
        let reservedStart = sectorsStart &+ align8(SectorTable.byteCount(capacity: maxSectors, sectorSize: partition.sectorSize))
        let byteCount = reservedStart &+ MemoryLayout<Int>.stride &* redundancy
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: byteCount,
            alignment: max(MemoryLayout<MutableState>.alignment, MemoryLayout<FlashIO<Flash>.State>.alignment, 8))
        // All zeros: the tables' and the reserved addresses' initial contents.
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        mutable = storage.bindMemory(to: MutableState.self, capacity: 1)
        mutable.initialize(to: MutableState())
        let ioState = (storage + ioStart).bindMemory(to: FlashIO<Flash>.State.self, capacity: 1)
        ioState.initialize(to: FlashIO<Flash>.State(partition: partition, formats: formats))
        io = FlashIO(state: ioState)
        keyTable = KeyTable(at: storage + keysStart, capacity: capacity, redundancy: redundancy,
                        narrowAddresses: narrowAddresses)
        sectors = SectorTable(at: storage + sectorsStart, sectorSize: partition.sectorSize, capacity: maxSectors)
        reserved = (storage + reservedStart).bindMemory(to: Int.self, capacity: redundancy)
    }

    deinit {
        io.state.deinitialize(count: 1)
        mutable.deinitialize(count: 1)
        UnsafeMutableRawPointer(mutable).deallocate()
    }

    /// Whether the store is ready for reads and writes.
    public var isInitialized: Bool { state == .ready }
    /// Number of keys present (deleted keys not counted).
    public var count: Int { keyTable.presentCount }
    /// Whether no key is present.
    public var isEmpty: Bool { keyTable.presentCount == 0 }
    /// Number of keys tracked, deleted keys included.
    public var totalEntriesWithDeleted: Int { keyTable.count }
    /// The newest transaction id (each written entry takes the next one).
    public var transactionCount: UInt32 { lastTransactionID }
    /// Largest key length plus value length that fits one sector (at most
    /// 63 + 65534: the header's key-length and value-size fields).
    public var maxKeyValueSize: Int { min(partition.sectorSize &- EntryHeader.size, 63 &+ 65534) }
    /// The format new entries are written in.
    public var primaryFormat: EntryFormat { formats[0] }

    var sectorSize: Int { partition.sectorSize }
}

/// The outcome of a put or delete, as far as the flash is concerned.
public enum WriteState: Sendable {
    /// Nothing was written: the call was refused before writing (bad
    /// input, not ready, no space, ...). The previous version stays.
    case notWritten
    /// The new version is current and survives a restart. If the call
    /// threw, a later redundant copy failed: the key has fewer copies until
    /// maintenance restores them.
    case committed
    /// Writing the first copy failed or did not verify: the previous version
    /// stays current now, but the new one may have reached flash intact and
    /// be found after a restart.
    case uncertain
}
