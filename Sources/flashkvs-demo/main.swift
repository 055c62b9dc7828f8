// A short walk through FlashKVS's main job: store values on (simulated) NOR
// flash, survive a "reboot", keep them across garbage collection.
import FlashKVS

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

do {
    // 4 sectors of 4 KiB, 16-byte writes: a typical small partition.
    let flash = RAMFlash(sectorSize: 4096, sectorCount: 4, alignment: 16)
    let format = EntryFormat(magic: 0xd253_a8a9, checksum: .crc16)
    let store = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: 64)
    try store.initialize()

    try store.put("device/name", Array("sensor-7".utf8))
    try store.put("boot/count", value: UInt32(1))
    try store.put("calibration", [0x12, 0x34, 0x56, 0x78])
    print("stored \(store.count) keys; transaction count \(store.transactionCount)")

    // Count 500 boots: every update appends a new entry, so sectors fill up
    // and garbage collection reclaims the stale versions.
    for _ in 0..<500 {
        let boots: UInt32 = try store.get("boot/count")
        try store.put("boot/count", value: boots + 1)
    }
    let stats = store.storageStats
    print("after 500 updates: \(stats.inUseBytes) bytes in use, \(stats.reclaimableBytes) reclaimable, "
        + "\(stats.sectorEraseCount) sectors erased by garbage collection")

    try store.delete("calibration")

    // "Reboot": a new store object over the same flash finds everything again.
    let rebooted = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: 64)
    try rebooted.initialize()
    print("after reboot:")
    for item in rebooted.items {
        let key = text(item.key)
        let size = try rebooted.valueSize(of: item)
        var value = [UInt8](repeating: 0, count: size)
        var span = value.mutableSpan
        try rebooted.get(item, into: &span)
        let shown = key == "boot/count" ? "\(try rebooted.get(key, as: UInt32.self))" : "\"\(text(value))\""
        print("  \(key) = \(shown)")
    }
    do {
        _ = try rebooted.get("calibration")
    } catch {
        print("  calibration: \(error.name) (deleted)")
    }
    print("erases per sector: \(flash.eraseCounts)")
} catch {
    print("error: \(error)")
}
