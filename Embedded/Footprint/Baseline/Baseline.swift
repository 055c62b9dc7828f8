// Footprint baseline: the same firmware as the Minimal and Full programs
// (startup, newlib, the flash driver) without FlashKVS. Its size is
// subtracted from theirs.
import FlashKVS

@main
struct Baseline {
    static func main() {
        let flash = MappedFlash.device(sectorSize: 4096, sectorCount: 8)
        var word = InlineArray<8, UInt8>(repeating: 0x5A)
        do throws(KVSError) {
            try flash.erase(at: 0, sectorCount: 1)
            try flash.write(at: 0, word.span)
            var buffer = word.mutableSpan
            try flash.read(at: 0, into: &buffer)
            kvs_sink(UInt32(buffer[0]))
        } catch {
            kvs_sink(UInt32(error.rawValue))
        }
    }
}
