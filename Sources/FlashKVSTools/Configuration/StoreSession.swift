import FlashKVS

/// A key-value store opened over a flash memory with a
/// ``StoreConfiguration``: the store plus what its initialization found.
///
/// Generic over the flash so the same code runs on image files
/// (``FileFlash``) and in memory (`RAMFlash`).
public final class StoreSession<Flash: FlashMemory> {
    public let configuration: StoreConfiguration
    /// The flash the store runs on (for a class flash, the same object).
    public let flash: Flash
    public let isWritable: Bool
    public let recovery: Options.Recovery
    /// Whether the store is opened with `enableBatches()` (atomic batches,
    /// Docs/BATCHES.md): its initialization then rolls back a torn batch
    /// (a write: only for a writable session), and `commit` works.
    public let batchesEnabled: Bool
    /// The current store object; replaced by ``reinitialize()``.
    public private(set) var store: KeyValueStore<Flash>
    /// The status of the last initialization when it found errors it did
    /// not repair (the store is then readable, not writable; see the
    /// store's `lastScan`): `.dataLoss` for corruption, missing copies or
    /// no erased sector; `.resourceExhausted` for more keys than the
    /// capacity; `.failedPrecondition` when nothing parses with the
    /// format. Nil when clean.
    public private(set) var initializationError: KVSError?

    /// Creates a store over all sectors of `flash` and initializes it.
    ///
    /// - Parameters:
    ///   - writable: false makes the partition read-only: nothing can be
    ///     written or erased, whatever the flash holds.
    ///   - recovery: `.manual` never repairs during initialization (and so
    ///     never writes); `.lazy` repairs what it can.
    ///   - batches: call `enableBatches()` before initializing, so the
    ///     store can commit atomic batches and rolls back a batch a power
    ///     cut left torn (that rollback writes, whatever `recovery` is;
    ///     leave it false for a read-only session, which then reads a torn
    ///     batch as pw_kvs does: partly applied).
    /// - Throws: `.invalidArgument` when the store rejects the
    ///   configuration; `.failedPrecondition` when the geometry is outside
    ///   the store's limits (fewer than 2 sectors, more than 65535, sectors
    ///   of 2 GiB or more). Errors found on flash are not thrown but kept
    ///   in ``initializationError``.
    public init(
        flash: Flash, configuration: StoreConfiguration, writable: Bool, recovery: Options.Recovery = .manual,
        batches: Bool = false
    ) throws(KVSError) {
        self.flash = flash
        self.configuration = configuration
        self.isWritable = writable
        self.recovery = recovery
        batchesEnabled = batches
        store = try Self.makeStore(
            flash: flash, configuration: configuration, writable: writable, recovery: recovery, batches: batches)
        initializationError = try Self.initialize(store)
    }

    /// Replaces the store with a new store object over the same flash and
    /// initializes it (the script command `reinit`), with batches enabled
    /// if they were.
    /// - Throws: as ``init(flash:configuration:writable:recovery:batches:)``.
    public func reinitialize() throws(KVSError) {
        store = try Self.makeStore(
            flash: flash, configuration: configuration, writable: isWritable, recovery: recovery, batches: batchesEnabled)
        initializationError = try Self.initialize(store)
    }

    private static func makeStore(
        flash: Flash, configuration: StoreConfiguration, writable: Bool, recovery: Options.Recovery, batches: Bool
    ) throws(KVSError) -> KeyValueStore<Flash> {
        let partition = try FlashPartition(flash, alignment: configuration.alignment, writable: writable)
        let store = try KeyValueStore(
            partition: partition, formats: configuration.formats,
            capacity: configuration.capacity(sectorCount: partition.sectorCount),
            redundancy: configuration.redundancy, options: Options(recovery: recovery))
        if batches { store.enableBatches() }
        return store
    }

    private static func initialize(_ store: KeyValueStore<Flash>) throws(KVSError) -> KVSError? {
        do {
            try store.initialize()
            return nil
        } catch {
            // Configuration errors leave the store uninitialized; errors
            // found on flash leave it readable.
            guard store.state != .notInitialized else { throw error }
            return error
        }
    }
}
