// Footprint program "full": the minimal program plus typed values, String
// keys, iteration, maintenance and statistics.
import FlashKVS

@main
struct Application {
    static func main() {
        let flash = MappedFlash.device(sectorSize: 4096, sectorCount: 8)
        let key: StaticString = "boot/count"
        let keyBytes = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var value = InlineArray<8, UInt8>(repeating: 0x5A)
        do throws(KVSError) {
            let format = EntryFormat(magic: 0x7E57_F1A5, checksum: .crc16)
            let store = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: 64,
                                          redundancy: 2)
            try store.initialize()
            try store.put(keyBytes.span, value.span)
            var buffer = value.mutableSpan
            kvs_sink(UInt32(try store.get(keyBytes.span, into: &buffer)))
            try store.delete(keyBytes.span)

            try store.put("device/serial", value: UInt32(1234))
            kvs_sink(try store.get("device/serial", as: UInt32.self))
            kvs_sink(UInt32(try store.valueSize("device/serial")))
            for item in store.items {
                var keyBuffer = InlineArray<64, UInt8>(repeating: 0)
                var keySpan = keyBuffer.mutableSpan
                kvs_sink(UInt32(try store.key(of: item, into: &keySpan)))
                kvs_sink(UInt32(try store.get(item, into: &buffer)))
            }
            try store.delete("device/serial")
            try store.partialMaintenance()
            try store.fullMaintenance()
            try store.heavyMaintenance()
            kvs_sink(UInt32(store.storageStats.inUseBytes))
            kvs_sink(store.checkForErrors() ? 1 : 0)
        } catch {
            kvs_sink(UInt32(error.rawValue))
        }
    }
}
