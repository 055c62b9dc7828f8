import FlashKVS

/// The power switch shared by a ``PowerCutFlash`` and its test.
final class PowerSupply {
    /// The program or erase operation (counted from 1) during which power
    /// fails; nil: power never fails.
    var failingOperation: Int?
    /// Program and erase operations started so far.
    private(set) var operations = 0
    /// Whether power has failed; the flash then refuses every change.
    private(set) var isOff = false
    /// Whether the operation that failed was an erase.
    private(set) var failedDuringErase = false

    init(failingOperation: Int? = nil) {
        self.failingOperation = failingOperation
    }

    /// Counts an operation; returns true if power fails during it.
    func startOperation(isErase: Bool) -> Bool {
        operations += 1
        if operations == failingOperation {
            isOff = true
            failedDuringErase = isErase
        }
        return isOff
    }
}

/// A user-defined ``FlashMemory`` over a ``RAMFlash`` that simulates a power
/// cut: the failing program operation is torn (only its first half reaches
/// the flash), the failing erase is torn (only the first half of the sector
/// is erased), and every later change is lost. Reads keep working, as they
/// would until the device actually stops.
struct PowerCutFlash: FlashMemory {
    let flash: RAMFlash
    let power: PowerSupply

    var sectorSize: Int { flash.sectorSize }
    var sectorCount: Int { flash.sectorCount }
    var alignment: Int { flash.alignment }
    var erasedByte: UInt8 { flash.erasedByte }

    mutating func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        try flash.read(at: address, into: &buffer)
    }

    mutating func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        guard !power.isOff else { throw .unavailable }
        if power.startOperation(isErase: false) {
            flash.load(bytes.extracting(0..<(bytes.count / 2)), at: address)
            throw .unavailable
        }
        try flash.write(at: address, bytes)
    }

    mutating func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        guard !power.isOff else { throw .unavailable }
        if power.startOperation(isErase: true) {
            for index in address..<(address + sectorSize / 2) { flash[index] = erasedByte }
            throw .unavailable
        }
        try flash.erase(at: address, sectorCount: count)
    }
}
