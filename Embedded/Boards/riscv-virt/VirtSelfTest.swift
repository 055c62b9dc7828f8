// FlashKVS firmware for QEMU riscv32 `virt` (-bios none). What it runs is
// chosen by the host (Scripts/embedded-riscv.sh) through a word QEMU's
// loader device writes at 0x81000000 before the CPU starts:
//   0  the self-test: the CFI NOR driver (Embedded/Drivers/CFIFlash.swift)
//      on pflash unit 0 (0x20000000, an image file) and unit 1 (0x22000000,
//      a read-only image: the error paths); the store over RAM-backed flash
//      of 4 KiB sectors; and whether the core accepts the pflash's 256 KiB
//      erase blocks as sectors;
//   1..4  the image-file runs of the store on the pflash (run 1 writes,
//      run 2 reads back and continues, 3 writes until the host kills QEMU,
//      4 recovers and checks); they need the core to accept 256 KiB sectors.
// A failure prints the reason and traps (QEMU exits with status 134).
import FlashKVS
import _Volatile

@_extern(c, "kvs_run_mode") func kvs_run_mode() -> UInt32
@_extern(c, "kvs_heap_peak") func kvs_heap_peak() -> UInt32

@main
struct VirtSelfTest {
    /// pflash unit 0 (virt.flash0) and unit 1 (virt.flash1), hw/riscv/virt.c.
    static let flash0: UInt = 0x2000_0000
    static let flash1: UInt = 0x2200_0000
    /// The store's partition on flash0: its first blocks.
    static let partitionBlocks = 4
    /// Written by the host at offset 0 of the read-only image on unit 1.
    static let readOnlyMarker: UInt32 = 0x4F52_4B46  // "FKRO"

    static func main() {
        switch kvs_run_mode() {
        case 0: selfTest()
        case 1: ImageRuns.writeKnownKeys(cfi())
        case 2: ImageRuns.readBackAndContinue(cfi())
        case 3: ImageRuns.writeUntilKilled(cfi())
        case 4: ImageRuns.recover(cfi())
        default: fail("unknown run mode \(kvs_run_mode())")
        }
    }

    static func cfi() -> CFIFlash {
        guard let flash = CFIFlash.probe(base: flash0) else { fail("no CFI flash at \(hex(flash0))") }
        return flash
    }

    static func selfTest() {
        print("FlashKVS self-test on QEMU riscv32 virt (CFI NOR driver on pflash, store on RAM-backed flash)")
        let flash = cfi()
        testDriver(flash)
        testReadOnlyBank()

        let ram = MappedFlash.device(sectorSize: 4096, sectorCount: 16)
        BoardStoreTests.basics(ram, capacity: 64, redundancy: 2)
        BoardStoreTests.garbageCollection(ram, capacity: 64, redundancy: 2)
        let small = MappedFlash.device(sectorSize: 4096, sectorCount: 4)
        BoardStoreTests.powerCuts(small, steps: 500, redundancy: 1, stride: 1)
        BoardStoreTests.powerCuts(small, steps: 300, redundancy: 2, stride: 1)
        BoardStoreTests.footprint(MappedFlash.device(sectorSize: 4096, sectorCount: 8), capacity: 50, redundancy: 2,
                                  keys: 40)

        let accepted = pflashStoreAccepted(flash)
        print("self-test passed on riscv32 virt (CFI NOR on pflash, RAM-backed 4 KiB sectors for the store): "
            + "\(board.checks) checks, \(board.powerCuts) power cuts; store heap \(board.storeHeap) B (50 keys, "
            + "8 sectors, redundancy 2), stack deepest \(board.deepestStack) B, heap peak \(kvs_heap_peak()) B; "
            + "pflash store runs: " + (accepted ? "ready" : "wait for the core to accept 256 KiB sectors"))
    }

    /// Whether the core accepts the pflash's erase blocks as sectors: a
    /// store over the erased partition initializes.
    static func pflashStoreAccepted(_ flash: CFIFlash) -> Bool {
        var flash = flash
        attempt { () throws(KVSError) in try flash.erase(at: 0, sectorCount: partitionBlocks) }
        do throws(KVSError) {
            let store = try KeyValueStore(
                partition: FlashPartition(flash, firstSector: 0, sectorCount: partitionBlocks), format: testFormat,
                capacity: 64, redundancy: 1)
            try store.initialize()
            print("ok  pflash store: the core accepts \(flash.sectorSize)-byte sectors")
            return true
        } catch {
            print("--  pflash store: the core refuses \(flash.sectorSize)-byte sectors "
                + "(\(errorName(error))); the image-file runs wait for the core to accept them (issue 21, point 3)")
            return false
        }
    }

    static func read8(_ flash: CFIFlash, at address: Int) -> InlineArray<8, UInt8> {
        var bytes = InlineArray<8, UInt8>(repeating: 0)
        attempt { () throws(KVSError) in
            var buffer = bytes.mutableSpan
            try flash.read(at: address, into: &buffer)
        }
        return bytes
    }

    /// The CFI driver on the writable bank: geometry from the CFI query,
    /// erase, program, read back, status, the NOR rule, alignment, range.
    static func testDriver(_ probed: CFIFlash) {
        var flash = probed
        check(flash.sectorSize == 256 * 1024 && flash.sectorCount == 128,
              "CFI query: \(flash.sectorCount) blocks of \(flash.sectorSize) B, expected 128 of 256 KiB")
        let block = 127 * flash.sectorSize  // the last block: the store's partition starts at block 0
        attempt { () throws(KVSError) in try flash.erase(at: block, sectorCount: 1) }
        var erased = true
        for word in stride(from: 0, to: flash.sectorSize, by: 4096) {
            let bytes = read8(flash, at: block + word)
            for index in 0..<8 where bytes[index] != 0xFF { erased = false }
        }
        check(erased, "an erased block reads 0xFF")
        check(flash.status() == 0x0080_0080, "status after an erase: both chips ready, no error bits")

        var data = InlineArray<8, UInt8>(repeating: 0)
        for index in 0..<8 { data[index] = UInt8(index &* 29 &+ 1) }
        attempt { () throws(KVSError) in try flash.write(at: block + 8, data.span) }
        var readBack = read8(flash, at: block + 8)
        var same = true
        for index in 0..<8 where readBack[index] != data[index] { same = false }
        check(same, "programmed words read back (the flash is in read-array mode after a program)")
        check(flash.status() == 0x0080_0080, "status after a program: ready, no error bits")

        var ones = InlineArray<4, UInt8>(repeating: 0xFF)
        ones[1] = 0x7F
        expectError(.unknown, "programming a 1 over a 0") { () throws(KVSError) in
            try flash.write(at: block + 8, ones.span)
        }
        readBack = read8(flash, at: block + 8)
        check(readBack[0] == data[0] && readBack[1] == data[1], "a refused program leaves the word alone")
        let zeros = InlineArray<4, UInt8>(repeating: 0)
        attempt { () throws(KVSError) in try flash.write(at: block + 8, zeros.span) }
        readBack = read8(flash, at: block + 8)
        check(readBack[0] == 0 && readBack[3] == 0 && readBack[4] == data[4], "clearing the rest of a word")

        expectError(.invalidArgument, "misaligned program") { () throws(KVSError) in
            try flash.write(at: block + 2, ones.span)
        }
        expectError(.invalidArgument, "program of 3 bytes") { () throws(KVSError) in
            try flash.write(at: block + 16, ones.span.extracting(0..<3))
        }
        expectError(.invalidArgument, "erase inside a block") { () throws(KVSError) in
            try flash.erase(at: block - flash.sectorSize + 4096, sectorCount: 1)
        }
        expectError(.outOfRange, "program past the bank") { () throws(KVSError) in
            try flash.write(at: 128 * flash.sectorSize, ones.span)
        }
        expectError(.outOfRange, "erase past the bank") { () throws(KVSError) in
            try flash.erase(at: block, sectorCount: 2)
        }
        attempt { () throws(KVSError) in try flash.erase(at: block, sectorCount: 1) }
        readBack = read8(flash, at: block + 8)
        var clean = true
        for index in 0..<8 where readBack[index] != 0xFF { clean = false }
        check(clean, "the block erases again")
        print("ok  CFI driver (pflash unit 0 at \(hex(flash0))): CFI query found 128 x 256 KiB blocks; block erase "
            + "(0x20/0xD0), word program (0x40), read array (0xFF), status (0x70) polled on bit 7 of both chips; "
            + "a 1 over a 0 refused (UNKNOWN), misaligned (INVALID_ARGUMENT), past the bank (OUT_OF_RANGE)")
    }

    /// The error paths: unit 1 is attached read-only, so QEMU's model sets
    /// SR.4 on a program and SR.5 on an erase.
    static func testReadOnlyBank() {
        guard var flash = CFIFlash.probe(base: flash1) else { fail("no CFI flash at \(hex(flash1))") }
        let marker = VolatileMappedRegister<UInt32>(unsafeBitPattern: flash1).load()
        check(marker == readOnlyMarker, "unit 1 is the read-only image at \(hex(flash1)) (marker \(hex(UInt(marker))))")
        let zeros = InlineArray<4, UInt8>(repeating: 0)
        expectError(.unknown, "program on a read-only bank") { () throws(KVSError) in
            try flash.write(at: 16, zeros.span)
        }
        check(flash.lastStatus & 0x10 != 0, "the program failed with SR.4 (status \(hex(UInt(flash.lastStatus))))")
        check(VolatileMappedRegister<UInt32>(unsafeBitPattern: flash1).load() == readOnlyMarker,
              "after the error the bank is back in read-array mode")
        expectError(.unknown, "erase on a read-only bank") { () throws(KVSError) in
            try flash.erase(at: 0, sectorCount: 1)
        }
        check(flash.lastStatus & 0x20 != 0, "the erase failed with SR.5 (status \(hex(UInt(flash.lastStatus))))")
        check(flash.status() & 0x007F_007F == 0, "no error bits left after the error (the driver cleared them)")
        check(VolatileMappedRegister<UInt32>(unsafeBitPattern: flash1).load() == readOnlyMarker,
              "the read-only image is unchanged")
        print("ok  CFI error paths (pflash unit 1 at \(hex(flash1)), read-only image): program -> SR.4 -> UNKNOWN, "
            + "erase -> SR.5 -> UNKNOWN; status cleared (0x50), back in read array")
    }
}

/// The store on the pflash image file across QEMU processes (modes 1-4).
enum ImageRuns {
    static let capacity = 64
    /// Keys of runs 1 and 2: key/000..key/029; keys of the kill runs: key/040..key/047.
    static let killKeys = 40..<48

    static func open(_ flash: CFIFlash) -> KeyValueStore<CFIFlash> {
        do throws(KVSError) {
            let store = try KeyValueStore(
                partition: FlashPartition(flash, firstSector: 0, sectorCount: VirtSelfTest.partitionBlocks),
                format: testFormat, capacity: capacity, redundancy: 1)
            try store.initialize()
            return store
        } catch {
            fail("opening the store on the pflash: \(errorName(error))")
        }
    }

    static func versionOf(_ store: KeyValueStore<CFIFlash>, key: Int) -> Int {
        BoardStoreTests.version(store, key: key, candidates: 1...2)
    }

    /// Run 1: a blank partition, 20 known keys.
    static func writeKnownKeys(_ flash: CFIFlash) {
        var flash = flash
        attempt { () throws(KVSError) in try flash.erase(at: 0, sectorCount: VirtSelfTest.partitionBlocks) }
        let store = open(flash)
        attempt { () throws(KVSError) in
            for key in 0..<20 { try store.putTestValue(key: key, version: 1) }
        }
        print("run 1: wrote key/000..key/019 (version 1) on the pflash; exiting")
    }

    /// Run 2: a new process on the same image reads run 1's keys back and
    /// continues.
    static func readBackAndContinue(_ flash: CFIFlash) {
        let store = open(flash)
        for key in 0..<20 { check(versionOf(store, key: key) == 1, "run 2: key \(key) written by run 1 reads back") }
        attempt { () throws(KVSError) in
            for key in 20..<30 { try store.putTestValue(key: key, version: 1) }
            try store.putTestValue(key: 0, version: 2)
        }
        check(store.invariantViolations().isEmpty, "run 2: invariants hold")
        print("run 2: read back the 20 keys of run 1, wrote key/020..key/029 and key/000 version 2")
    }

    /// The last step of the kill runs the store holds, checking that the
    /// kill keys are the state after a prefix of the step sequence (step s
    /// puts version s + 1 into key 40 + s % 8), the runs 1-2 keys intact.
    static func recoveredStep(_ store: KeyValueStore<CFIFlash>) -> Int {
        check(versionOf(store, key: 0) == 2, "key/000 holds run 2's version")
        for key in 1..<30 { check(versionOf(store, key: key) == 1, "key \(key) of runs 1-2 reads back") }
        var versions = InlineArray<8, Int>(repeating: 0)
        var last = -1
        for index in 0..<8 {
            let value: UInt32
            do throws(KVSError) {
                value = try withTestKey(killKeys.lowerBound + index) { name throws(KVSError) in
                    try store.get(name, as: UInt32.self)
                }
            } catch .notFound {
                value = 0
            } catch {
                fail("kill key \(index): \(errorName(error))")
            }
            versions[index] = Int(value)
            last = max(last, Int(value) - 1)
        }
        // Every key holds the version of its last step at or before `last`.
        for index in 0..<8 {
            var expected = 0
            var step = last
            while step >= 0 {
                if step % 8 == index { expected = step + 1; break }
                step -= 1
            }
            check(versions[index] == expected, "kill key \(index) holds \(versions[index]), expected \(expected) "
                + "(the state after step \(last))")
        }
        check(store.invariantViolations().isEmpty, "invariants hold after recovery")
        return last
    }

    /// Run 3: recovers, then writes until the host kills QEMU, printing
    /// every committed step.
    static func writeUntilKilled(_ flash: CFIFlash) {
        let store = open(flash)
        var step = recoveredStep(store) + 1
        print("writer: recovered through step \(step - 1)")
        while true {
            let key = killKeys.lowerBound + step % 8
            attempt { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in try store.put(name, value: UInt32(step + 1)) }
            }
            print("committed \(step)")
            step += 1
        }
    }

    /// Run 4: recovers after the kills, checks, writes and exits.
    static func recover(_ flash: CFIFlash) {
        let store = open(flash)
        let last = recoveredStep(store)
        attempt { () throws(KVSError) in
            for step in (last + 1)...(last + 8) {
                try withTestKey(killKeys.lowerBound + step % 8) { name throws(KVSError) in
                    try store.put(name, value: UInt32(step + 1))
                }
            }
        }
        check(recoveredStep(store) == last + 8, "the store is writable after recovery")
        print("recovered: steps through \(last) committed; every committed key read its value; 8 more writes "
            + "through step \(last + 8)")
    }
}
