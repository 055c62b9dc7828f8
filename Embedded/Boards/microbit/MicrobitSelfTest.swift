// FlashKVS self-test on QEMU `microbit` (nRF51822, Cortex-M0, armv6m): the
// NVMC driver (Embedded/Drivers/NRF51Flash.swift) on its own, then the
// store on the top pages of the internal flash (the firmware lives below
// them: Embedded/Boards/microbit/nrf51.ld), within the part's 16 KiB of RAM.
// Prints what it checked; a failure traps (QEMU exits with status 134).
import FlashKVS
import _Volatile

@_extern(c, "kvs_store_start") func kvs_store_start() -> UInt32
@_extern(c, "kvs_store_size") func kvs_store_size() -> UInt32
@_extern(c, "kvs_firmware_end") func kvs_firmware_end() -> UInt32
@_extern(c, "kvs_static_ram") func kvs_static_ram() -> UInt32
@_extern(c, "kvs_stack_reserved") func kvs_stack_reserved() -> UInt32
@_extern(c, "kvs_heap_peak") func kvs_heap_peak() -> UInt32

@main
struct MicrobitSelfTest {
    static func main() {
        print("FlashKVS self-test on QEMU microbit (nRF51822, Cortex-M0, NVMC driver)")
        let start = UInt(kvs_store_start())
        let pages = Int(kvs_store_size()) / NRF51Flash.pageSize
        check(UInt(kvs_firmware_end()) <= start, "the firmware ends below the store's pages")
        testDriver(base: start)
        let flash = NRF51Flash(base: start, sectorCount: pages)
        BoardStoreTests.basics(flash, capacity: 32, redundancy: 2)
        BoardStoreTests.garbageCollection(flash, capacity: 32, redundancy: 2)
        let small = NRF51Flash(base: start, sectorCount: 4)
        BoardStoreTests.powerCuts(small, steps: 240, redundancy: 1, stride: 1)
        BoardStoreTests.powerCuts(small, steps: 140, redundancy: 2, stride: 1)
        BoardStoreTests.footprint(flash, capacity: 32, redundancy: 2, keys: 24)
        let heapPeak = Int(kvs_heap_peak())
        let staticRAM = Int(kvs_static_ram())
        check(staticRAM + heapPeak + Int(kvs_stack_reserved()) <= 16 * 1024, "everything fits 16 KiB of RAM")
        print("self-test passed on microbit (nRF51822, Cortex-M0, NVMC): \(board.checks) checks, "
            + "\(board.powerCuts) power cuts; store on \(pages) x 1 KiB flash pages at \(hex(start)) above the firmware "
            + "(ends at \(hex(UInt(kvs_firmware_end())))); RAM: store heap \(board.storeHeap) B (32 keys, \(pages) "
            + "sectors, redundancy 2), stack deepest \(board.deepestStack) B, static \(staticRAM) B, heap peak "
            + "\(heapPeak) B, of 16384 B")
    }

    /// Eight bytes at `address` through the driver.
    static func read8(_ flash: NRF51Flash, at address: Int) -> InlineArray<8, UInt8> {
        var bytes = InlineArray<8, UInt8>(repeating: 0)
        attempt { () throws(KVSError) in
            var buffer = bytes.mutableSpan
            try flash.read(at: address, into: &buffer)
        }
        return bytes
    }

    /// The NVMC driver alone: program, read back, erase, the NOR rule,
    /// alignment and range errors, CONFIG back to REN after each operation,
    /// and what QEMU's controller model enforces.
    static func testDriver(base: UInt) {
        var flash = NRF51Flash(base: base, sectorCount: 2)
        let word = VolatileMappedRegister<UInt32>(unsafeBitPattern: base)
        attempt { () throws(KVSError) in try flash.erase(at: 0, sectorCount: 2) }
        check(flash.configuration == NRF51Flash.readOnly, "CONFIG is REN after an erase")
        check(word.load() == 0xFFFF_FFFF, "an erased page reads 0xFF")

        // The controller ignores stores to flash unless CONFIG = WEN, and
        // ERASEPAGE unless CONFIG = EEN: the driver must switch modes.
        word.store(0x1234_5678)
        check(word.load() == 0xFFFF_FFFF, "a store to flash with CONFIG = REN changes nothing")

        var data = InlineArray<8, UInt8>(repeating: 0)
        for index in 0..<8 { data[index] = UInt8(index &* 17 &+ 3) }
        attempt { () throws(KVSError) in try flash.write(at: 0, data.span) }
        check(flash.configuration == NRF51Flash.readOnly, "CONFIG is REN after a program")
        var readBack = read8(flash, at: 0)
        var same = true
        for index in 0..<8 where readBack[index] != data[index] { same = false }
        check(same, "programmed words read back")
        check(word.load() == 0x3625_1403, "the first word is in flash, little-endian")

        // A program that would set a cleared bit is refused; flash unchanged.
        var ones = InlineArray<4, UInt8>(repeating: 0xFF)
        ones[0] = 0xFE
        expectError(.unknown, "programming a 1 over a 0") { () throws(KVSError) in try flash.write(at: 0, ones.span) }
        check(flash.configuration == NRF51Flash.readOnly, "CONFIG is REN after a refused program")
        // Clearing more bits of a programmed word is allowed (NOR: AND).
        let fewer = InlineArray<4, UInt8>(repeating: 0)
        attempt { () throws(KVSError) in try flash.write(at: 4, fewer.span) }
        readBack = read8(flash, at: 4)
        check(readBack[0] == 0 && readBack[3] == 0, "clearing the remaining bits of a word")

        expectError(.invalidArgument, "misaligned address") { () throws(KVSError) in
            try flash.write(at: 2, ones.span)
        }
        expectError(.invalidArgument, "length not a multiple of 4") { () throws(KVSError) in
            try flash.write(at: 8, ones.span.extracting(0..<3))
        }
        expectError(.outOfRange, "write past the region") { () throws(KVSError) in
            try flash.write(at: 2 * 1024 - 2, ones.span)
        }
        expectError(.outOfRange, "read past the region") { () throws(KVSError) in
            var bytes = InlineArray<8, UInt8>(repeating: 0)
            var buffer = bytes.mutableSpan
            try flash.read(at: 2 * 1024 - 4, into: &buffer)
        }
        expectError(.outOfRange, "erase past the region") { () throws(KVSError) in
            try flash.erase(at: 1024, sectorCount: 2)
        }
        expectError(.invalidArgument, "erase of an unaligned page") { () throws(KVSError) in
            try flash.erase(at: 4, sectorCount: 1)
        }

        // ERASEPAGE with CONFIG = REN is ignored by the controller.
        VolatileMappedRegister<UInt32>(unsafeBitPattern: 0x4001_E508).store(UInt32(truncatingIfNeeded: base))
        check(word.load() != 0xFFFF_FFFF, "ERASEPAGE with CONFIG = REN erases nothing")
        attempt { () throws(KVSError) in try flash.erase(at: 0, sectorCount: 1) }
        readBack = read8(flash, at: 0)
        var erased = true
        for index in 0..<8 where readBack[index] != 0xFF { erased = false }
        check(erased && flash.configuration == NRF51Flash.readOnly, "the page is erased, CONFIG is REN")
        print("ok  NVMC driver: program (CONFIG = WEN), read back, erase (EEN + ERASEPAGE), CONFIG back to REN "
            + "after each; a 1 over a 0 refused (UNKNOWN), misaligned (INVALID_ARGUMENT), past the region "
            + "(OUT_OF_RANGE); QEMU ignores flash stores and ERASEPAGE without WEN/EEN")
    }
}
