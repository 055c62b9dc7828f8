import FlashKVS
import _Volatile

/// Parallel NOR flash with the Intel/Sharp command set (CFI primary
/// command set 0x0001), as a ``FlashMemory``; written against QEMU's
/// pflash_cfi01 model as the riscv32 and arm `virt` boards configure it: a
/// 32-bit bank of two x16 chips side by side, so every command is written
/// to both chips (`command | command << 16`) and both chips' status is
/// read in one 32-bit load.
///
/// - Read array (0xFF): the flash reads as memory; the driver leaves it so.
/// - Word program (0x40, or 0x10): the command, then the 32-bit word, to
///   the word's address; status polled until bit 7 (ready) is set in both
///   chips. Words of all ones are skipped (they change nothing).
/// - Block erase (0x20, confirm 0xD0) to an address in the block; polled.
/// - Clear status (0x50) before each operation; read status (0x70).
/// - Error bits after an operation, in either chip: SR.1 block locked and
///   SR.3 VPP low: `.permissionDenied`; SR.4 and SR.5 together (improper
///   command sequence): `.invalidArgument`; SR.4 program failure or SR.5
///   erase failure: `.unknown`. After an error the driver clears the status
///   and returns to read array; ``lastStatus`` keeps the raw value.
/// - Every poll is bounded (`.deadlineExceeded`).
///
/// NOR programming only clears bits; real chips AND a program into the
/// cells, QEMU's model overwrites them. The driver refuses a program that
/// would need a 0 bit set again (`.unknown`) before sending it, and reads
/// every word back after programming (`.unknown` if it did not take), so it
/// behaves the same on both. Writes go one word at a time (the model's
/// buffered write, 0xE8, is flawed: it writes through before the confirm).
struct CFIFlash: FlashMemory {
    /// CPU address of the flash bank.
    let base: UInt
    /// Bytes per erase block of the bank (both chips' blocks together).
    let sectorSize: Int
    /// Number of erase blocks.
    let sectorCount: Int
    /// The bank is 32 bits wide: programs are whole 32-bit words.
    var alignment: Int { 4 }
    var erasedByte: UInt8 { 0xFF }

    /// The status of the last operation that reported an error (both
    /// chips: the low and the high half).
    private(set) var lastStatus: UInt32 = 0

    /// Polls before a wait gives up.
    static let statusPolls = 10_000_000

    // Commands.
    static let readArray: UInt8 = 0xFF
    static let readStatus: UInt8 = 0x70
    static let clearStatus: UInt8 = 0x50
    static let wordProgram: UInt8 = 0x40
    static let blockErase: UInt8 = 0x20
    static let confirm: UInt8 = 0xD0
    static let query: UInt8 = 0x98

    // Status register bits (per chip).
    static let ready: UInt32 = 0x80
    static let eraseError: UInt32 = 0x20
    static let programError: UInt32 = 0x10
    static let vppLow: UInt32 = 0x08
    static let blockLocked: UInt32 = 0x02

    init(base: UInt, sectorSize: Int, sectorCount: Int) {
        self.base = base
        self.sectorSize = sectorSize
        self.sectorCount = sectorCount
    }

    /// Reads the geometry from the chips' CFI query table: erase block size
    /// and count of region 1 (uniform blocks), scaled to the bank.
    /// Returns nil when the query does not answer "QRY" with the Intel
    /// command set.
    static func probe(base: UInt) -> CFIFlash? {
        func register(_ offset: UInt) -> VolatileMappedRegister<UInt32> { .init(unsafeBitPattern: base &+ offset) }
        // In query mode a bank of x16 chips answers at word offsets: entry N at byte 4 * N.
        func entry(_ index: UInt) -> UInt32 { register(index &* 4).load() & 0xFF }
        register(0x55 * 4).store(replicated(query))
        defer { register(0).store(replicated(readArray)) }
        guard entry(0x10) == UInt32(UInt8(ascii: "Q")), entry(0x11) == UInt32(UInt8(ascii: "R")),
              entry(0x12) == UInt32(UInt8(ascii: "Y")), entry(0x13) == 0x01, entry(0x14) == 0x00 else { return nil }
        let chips = 2  // two x16 chips in a 32-bit bank
        let blocks = Int(entry(0x2D) | entry(0x2E) << 8) &+ 1
        let blockBytes = Int(entry(0x2F) | entry(0x30) << 8) &* 256
        return CFIFlash(base: base, sectorSize: blockBytes &* chips, sectorCount: blocks)
    }

    /// `command` for both chips of the bank.
    static func replicated(_ command: UInt8) -> UInt32 { UInt32(command) | UInt32(command) << 16 }

    private var size: Int { sectorSize &* sectorCount }

    private func register(_ address: Int) -> VolatileMappedRegister<UInt32> {
        .init(unsafeBitPattern: base &+ UInt(address))
    }

    private func send(_ command: UInt8, at address: Int) {
        register(address).store(Self.replicated(command))
    }

    /// Polls the status at `address` until both chips are ready; throws
    /// the error the status bits report.
    private mutating func waitForCompletion(at address: Int) throws(KVSError) {
        var status: UInt32 = 0
        var polls = 0
        while true {
            status = register(address).load()
            if status & Self.replicated(UInt8(Self.ready)) == Self.replicated(UInt8(Self.ready)) { break }
            polls &+= 1
            if polls == Self.statusPolls {
                lastStatus = status
                send(Self.clearStatus, at: address)
                send(Self.readArray, at: address)
                throw .deadlineExceeded
            }
        }
        let errors = (status | status >> 16) & 0x7F
        guard errors != 0 else { return }
        lastStatus = status
        send(Self.clearStatus, at: address)
        send(Self.readArray, at: address)
        if errors & (Self.blockLocked | Self.vppLow) != 0 { throw .permissionDenied }
        if errors & (Self.programError | Self.eraseError) == Self.programError | Self.eraseError {
            throw .invalidArgument
        }
        throw .unknown
    }

    /// The status register of both chips (read status, then read array).
    mutating func status() -> UInt32 {
        send(Self.readStatus, at: 0)
        let value = register(0).load()
        send(Self.readArray, at: 0)
        return value
    }

    func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        guard address >= 0, buffer.count <= size &- address else { throw .outOfRange }
        guard let source = UnsafePointer<UInt8>(bitPattern: base &+ UInt(address)) else { throw .outOfRange }
        for index in 0..<buffer.count { buffer[index] = source[index] }
    }

    mutating func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        guard address >= 0, bytes.count <= size &- address else { throw .outOfRange }
        guard address % 4 == 0, bytes.count % 4 == 0 else { throw .invalidArgument }
        var offset = 0
        while offset < bytes.count {
            let value = Self.loadWord(bytes, offset)
            if register(address &+ offset).load() & value != value { throw .unknown }
            offset &+= 4
        }
        offset = 0
        while offset < bytes.count {
            let value = Self.loadWord(bytes, offset)
            if value != 0xFFFF_FFFF {
                let wordAddress = address &+ offset
                send(Self.clearStatus, at: wordAddress)
                send(Self.wordProgram, at: wordAddress)
                register(wordAddress).store(value)
                try waitForCompletion(at: wordAddress)
                send(Self.readArray, at: wordAddress)
                if register(wordAddress).load() != value { throw .unknown }
            }
            offset &+= 4
        }
    }

    mutating func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        guard address >= 0, count >= 0, count <= sectorCount, address <= size &- count &* sectorSize else {
            throw .outOfRange
        }
        guard address % sectorSize == 0 else { throw .invalidArgument }
        for block in 0..<count {
            let blockAddress = address &+ block &* sectorSize
            send(Self.clearStatus, at: blockAddress)
            send(Self.blockErase, at: blockAddress)
            send(Self.confirm, at: blockAddress)
            try waitForCompletion(at: blockAddress)
            send(Self.readArray, at: blockAddress)
        }
    }

    private static func loadWord(_ bytes: Span<UInt8>, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset &+ 1]) << 8 | UInt32(bytes[offset &+ 2]) << 16
            | UInt32(bytes[offset &+ 3]) << 24
    }
}
