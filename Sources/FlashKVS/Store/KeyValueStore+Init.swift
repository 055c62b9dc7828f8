// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

// Opening the store: checks the configuration, scans the flash, repairs
// per the options (KeyValueStore+Recovery.swift).

extension KeyValueStore {
    /// Scans the flash and rebuilds the key and sector tables; the only full
    /// scan. Call before any other operation, and again after the flash was
    /// changed behind the store's back.
    ///
    /// With `.lazy` or `.immediate` recovery, errors found are repaired here
    /// (this may relocate entries, erase corrupt sectors and write missing
    /// copies) — except when the flash holds data the store cannot index
    /// (see ``ScanReport/holdsUnindexedData``): then nothing is written or
    /// erased. ``lastScan`` says what was found.
    /// - Throws: `.failedPrecondition` if the partition has more than
    ///   `maxSectors` sectors, or no more sectors than `redundancy` (the
    ///   copies of an entry go to distinct sectors and one sector stays
    ///   erased for garbage collection: at least 2, and redundancy + 1), or
    ///   sectors of 2 GiB or more (the store stays uninitialized); the read
    ///   error if the flash keeps failing to read (likewise); otherwise, with the store left in
    ///   `.needsMaintenance` (readable, not writable):
    ///   `.resourceExhausted` if the flash holds more keys than `capacity`;
    ///   `.failedPrecondition` if nothing on the written flash parses (wrong
    ///   magic or checksum?) or some entries are of a format not configured;
    ///   `.dataLoss` if other errors remain unrepaired.
    /// - Complexity: reads every entry once (header, then the rest in one
    ///   read per 256 bytes), one header per key, and the erased tail of
    ///   partly written sectors; O(entries) with O(1) key-table inserts.
    #if !$Embedded
    @_specialize(exported: true, where Flash == RAMFlash)
    #endif
    public func initialize() throws(KVSError) {
        state = .notInitialized
        errorDetected = false
        lastTransactionID = 0
        guard partition.sectorCount <= maxSectors, partition.sectorCount > redundancy,  // redundancy >= 1: at least 2
              sectorSize < 0x7FFF_FFFF else {
            throw .failedPrecondition
        }
        try rebuildAndRepair()
        if lastScan.entriesNotLoaded > 0 { throw .resourceExhausted }
        if lastScan.unrecognizedData { throw .failedPrecondition }
        if errorDetected { throw .dataLoss }
    }
}
