// Footprint program "batches": the minimal program plus atomic batches
// (enableBatches, one commit of a put and a delete), so that the script can
// report what batches add to firmware that uses them; firmware that never
// calls enableBatches() links none of their code.
import FlashKVS

@main
struct Application {
    static func main() {
        let flash = MappedFlash.device(sectorSize: 4096, sectorCount: 8)
        let key: StaticString = "boot/count"
        let keyBytes = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let other: StaticString = "boot/reason"
        let otherBytes = UnsafeBufferPointer(start: other.utf8Start, count: other.utf8CodeUnitCount)
        var value = InlineArray<8, UInt8>(repeating: 0x5A)
        do throws(KVSError) {
            let format = EntryFormat(magic: 0x7E57_F1A5, checksum: .crc16)
            let store = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: 64,
                                          redundancy: 2)
            store.enableBatches()
            try store.initialize()
            try store.put(keyBytes.span, value.span)
            var buffer = value.mutableSpan
            kvs_sink(UInt32(try store.get(keyBytes.span, into: &buffer)))
            try store.delete(keyBytes.span)
            try store.commit { batch throws(KVSError) in
                try batch.put(otherBytes.span, value.span)
                try batch.delete(keyBytes.span)
            }
        } catch {
            kvs_sink(UInt32(error.rawValue))
        }
    }
}
