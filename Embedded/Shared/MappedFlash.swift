import FlashKVS

/// Memory-mapped NOR flash, as on-chip flash appears to the CPU: reads are
/// plain loads from the mapped range; programs and erases would go through
/// the flash controller (see Docs/PORTING.md for a real one). QEMU's mps2
/// boards have no programmable flash, so here a RAM region stands in and
/// the "controller" behaves like NOR: a program can only clear bits, an
/// erase sets a whole sector to 0xFF.
struct MappedFlash: FlashMemory {
    let base: UnsafeMutablePointer<UInt8>
    let sectorSize: Int
    let sectorCount: Int
    /// Programs are whole 8-byte double words, as on many MCUs with ECC.
    var alignment: Int { 8 }
    var erasedByte: UInt8 { 0xFF }

    /// The startup code's flash region, split into `sectorCount` sectors of
    /// `sectorSize` bytes (erased: call ``eraseAll()`` first for a blank part).
    static func device(sectorSize: Int, sectorCount: Int) -> MappedFlash {
        precondition(sectorSize * sectorCount <= Int(kvs_flash_region_size()))
        return MappedFlash(base: kvs_flash_region(), sectorSize: sectorSize, sectorCount: sectorCount)
    }

    private var size: Int { sectorSize * sectorCount }

    func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        guard address >= 0, buffer.count <= size - address else { throw .outOfRange }
        for index in 0..<buffer.count { buffer[index] = base[address + index] }
    }

    func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        guard address >= 0, bytes.count <= size - address else { throw .outOfRange }
        guard address % 8 == 0, bytes.count % 8 == 0 else { throw .invalidArgument }
        for index in 0..<bytes.count { base[address + index] &= bytes[index] }
    }

    func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        guard address >= 0, address % sectorSize == 0, count >= 0, count * sectorSize <= size - address else {
            throw .outOfRange
        }
        (base + address).update(repeating: erasedByte, count: count * sectorSize)
    }

    /// Erases every sector.
    func eraseAll() {
        base.update(repeating: erasedByte, count: size)
    }
}
