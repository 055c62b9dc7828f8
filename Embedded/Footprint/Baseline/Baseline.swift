// Footprint baseline: the same firmware as the Minimal and Full programs
// (startup, newlib, the flash driver) with a FlashPartition over the driver
// that erases, writes, reads and checks erased space, but no store. Its size
// is subtracted from theirs, so the figure is the store's own code, measured
// as pw_kvs measures itself (its size report subtracts `base_with_only_flash`,
// a program that makes the same four partition calls). It also allocates and
// frees one block, as firmware with a heap does: the allocator (newlib's
// memalign and free here, with the startup code's heap counters) is the
// application's, which Embedded Swift needs for any class or buffer, so it
// is counted here rather than as the store's code.
import FlashKVS

@_extern(c, "posix_memalign") func posix_memalign(
    _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int) -> Int32
@_extern(c, "free") func free(_ pointer: UnsafeMutableRawPointer?)

@main
struct Baseline {
    static func main() {
        let flash = MappedFlash.device(sectorSize: 4096, sectorCount: 8)
        var word = InlineArray<8, UInt8>(repeating: 0x5A)
        do throws(KVSError) {
            var partition = try FlashPartition(flash)
            try partition.erase(at: 0)
            try partition.write(at: 0, word.span)
            var buffer = word.mutableSpan
            try partition.read(at: 0, into: &buffer)
            kvs_sink(UInt32(buffer[0]))
            kvs_sink(try partition.isRegionErased(at: 8, count: 8) ? 1 : 0)
        } catch {
            kvs_sink(UInt32(error.rawValue))
        }
        var block: UnsafeMutableRawPointer? = nil
        kvs_sink(UInt32(posix_memalign(&block, 8, 64)))
        free(block)
    }
}
