import FlashKVS
import _Volatile

/// The internal flash of an nRF51 through its NVMC (Non-Volatile Memory
/// Controller; nRF51 Series Reference Manual v3.0, chapter 6), as a
/// ``FlashMemory`` over a run of whole pages.
///
/// - Reads are plain loads: the flash is memory-mapped at 0.
/// - Programming: CONFIG = WEN, then each 32-bit word is stored to its
///   address, waiting on READY before and after; CONFIG = REN at the end.
///   A program can only clear bits, so the driver refuses a word that would
///   need a 0 bit set again (`.unknown`, as the controller cannot do it) and
///   reads every word back (`.unknown` when it did not take).
/// - Erasing: CONFIG = EEN, the page's address to ERASEPAGE, wait on READY,
///   CONFIG = REN; the page is read back as erased (`.unknown` otherwise).
/// - Every wait is bounded (`.deadlineExceeded`); CONFIG is back to REN on
///   every return, errors included.
///
/// On real silicon the CPU stalls while the NVMC writes (2.6 ms per page
/// erase, 46 us per word on the nRF51822): run the store where that is
/// acceptable. QEMU's model (hw/nvram/nrf51_nvm.c) is always READY, erases
/// at once, ignores (and logs) stores to the flash unless CONFIG = WEN and
/// ERASEPAGE unless CONFIG = EEN, and ANDs programmed words into the old
/// contents as NOR flash does.
struct NRF51Flash: FlashMemory {
    /// Bytes per page (FICR.CODEPAGESIZE on the nRF51822).
    static let pageSize = 1024

    /// CPU address of the first page of the region.
    let base: UInt
    /// Number of pages.
    let sectorCount: Int
    var sectorSize: Int { Self.pageSize }
    /// The NVMC programs 32-bit words.
    var alignment: Int { 4 }
    var erasedByte: UInt8 { 0xFF }

    /// Polls of READY before a wait gives up (the longest operation, a page
    /// erase, takes 2.6 ms; a poll is at least 2 cycles at 16 MHz).
    static let readyPolls = 100_000

    private static let nvmc: UInt = 0x4001_E000
    private var ready: VolatileMappedRegister<UInt32> { .init(unsafeBitPattern: Self.nvmc + 0x400) }
    private var config: VolatileMappedRegister<UInt32> { .init(unsafeBitPattern: Self.nvmc + 0x504) }
    private var erasePage: VolatileMappedRegister<UInt32> { .init(unsafeBitPattern: Self.nvmc + 0x508) }

    // CONFIG values.
    static let readOnly: UInt32 = 0   // REN
    static let writeEnable: UInt32 = 1  // WEN
    static let eraseEnable: UInt32 = 2  // EEN

    /// `sectorCount` pages starting at CPU address `base` (page-aligned).
    init(base: UInt, sectorCount: Int) {
        precondition(base % UInt(Self.pageSize) == 0 && sectorCount > 0)
        self.base = base
        self.sectorCount = sectorCount
    }

    /// The controller's CONFIG register (REN 0, WEN 1, EEN 2).
    var configuration: UInt32 { config.load() }

    private var size: Int { sectorCount &* Self.pageSize }

    private func word(at address: Int) -> UInt32 {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: base &+ UInt(address)).load()
    }

    private func waitUntilReady() throws(KVSError) {
        for _ in 0..<Self.readyPolls where ready.load() & 1 == 1 { return }
        throw .deadlineExceeded
    }

    /// Runs `body` with CONFIG = `mode`, restoring REN afterwards, also
    /// when `body` throws.
    private func withConfiguration(_ mode: UInt32, _ body: () throws(KVSError) -> Void) throws(KVSError) {
        try waitUntilReady()
        config.store(mode)
        var failure: KVSError? = nil
        do throws(KVSError) {
            try body()
        } catch {
            failure = error
        }
        // Restore REN even when the operation failed; report the first error.
        var restore: KVSError? = nil
        do throws(KVSError) { try waitUntilReady() } catch { restore = error }
        config.store(Self.readOnly)
        if let failure { throw failure }
        if let restore { throw restore }
    }

    func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        guard address >= 0, buffer.count <= size &- address else { throw .outOfRange }
        guard let source = UnsafePointer<UInt8>(bitPattern: base &+ UInt(address)) else { throw .outOfRange }
        for index in 0..<buffer.count { buffer[index] = source[index] }
    }

    func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        guard address >= 0, bytes.count <= size &- address else { throw .outOfRange }
        guard address % 4 == 0, bytes.count % 4 == 0 else { throw .invalidArgument }
        // NOR: a program can only clear bits. Refuse before touching anything.
        var offset = 0
        while offset < bytes.count {
            let value = Self.loadWord(bytes, offset)
            if word(at: address &+ offset) & value != value { throw .unknown }
            offset &+= 4
        }
        try withConfiguration(Self.writeEnable) { () throws(KVSError) in
            var offset = 0
            while offset < bytes.count {
                let value = Self.loadWord(bytes, offset)
                if value != 0xFFFF_FFFF {  // an all-ones word changes nothing: skip it
                    try waitUntilReady()
                    VolatileMappedRegister<UInt32>(unsafeBitPattern: base &+ UInt(address &+ offset)).store(value)
                }
                offset &+= 4
            }
        }
        offset = 0
        while offset < bytes.count {
            if word(at: address &+ offset) != Self.loadWord(bytes, offset) { throw .unknown }
            offset &+= 4
        }
    }

    func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        guard address >= 0, count >= 0, count <= sectorCount, address <= size &- count &* Self.pageSize else {
            throw .outOfRange
        }
        guard address % Self.pageSize == 0 else { throw .invalidArgument }
        for page in 0..<count {
            let pageAddress = address &+ page &* Self.pageSize
            try withConfiguration(Self.eraseEnable) { () throws(KVSError) in
                erasePage.store(UInt32(truncatingIfNeeded: base &+ UInt(pageAddress)))
            }
            var offset = 0
            while offset < Self.pageSize {
                if word(at: pageAddress &+ offset) != 0xFFFF_FFFF { throw .unknown }
                offset &+= 4
            }
        }
    }

    private static func loadWord(_ bytes: Span<UInt8>, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset &+ 1]) << 8 | UInt32(bytes[offset &+ 2]) << 16
            | UInt32(bytes[offset &+ 3]) << 24
    }
}
