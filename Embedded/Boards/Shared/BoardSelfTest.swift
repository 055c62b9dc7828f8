// The store's self-test over a board's own flash driver, shared by the
// microbit (nRF51 NVMC) and riscv32 virt (RAM-backed flash) firmware:
// put/get/delete, garbage collection and re-initialization, power cuts at
// every program and erase of a workload (torn through the real driver),
// no heap after initialize(), and the figures the CI prints (the store's
// heap, the deepest stack of initialize/put/get/delete).
// Any failure prints the reason and traps (QEMU exits with status 134).
import FlashKVS

/// What the board tests counted and measured.
final class BoardReport {
    var checks = 0
    /// Bytes `KeyValueStore.init` requested from the heap (the store's RAM).
    var storeHeap = 0
    var storeAllocations = 0
    var stackInitialize = 0
    var stackPut = 0
    var stackGet = 0
    var stackDelete = 0
    var powerCuts = 0

    /// The deepest stack of the four operations.
    var deepestStack: Int { max(max(stackInitialize, stackPut), max(stackGet, stackDelete)) }
}

nonisolated(unsafe) var board = BoardReport()

func check(_ condition: @autoclosure () throws(KVSError) -> Bool, _ message: @autoclosure () -> String,
           line: UInt = #line) {
    do throws(KVSError) {
        if try condition() {
            board.checks += 1
            return
        }
        fail(message(), line: line)
    } catch {
        fail("\(message()): threw \(errorName(error))", line: line)
    }
}

/// Runs `body`; an error is a failure.
func attempt(line: UInt = #line, _ body: () throws(KVSError) -> Void) {
    do throws(KVSError) {
        try body()
    } catch {
        fail("unexpected error \(errorName(error))", line: line)
    }
}

/// Requires `body` to throw `expected`.
func expectError(_ expected: KVSError, _ what: StaticString, line: UInt = #line,
                 _ body: () throws(KVSError) -> Void) {
    do throws(KVSError) {
        try body()
        fail("\(what): no error, expected \(errorName(expected))", line: line)
    } catch {
        check(error == expected, "\(what): threw \(errorName(error)), expected \(errorName(expected))", line: line)
    }
}

/// The pw_status name of `error`.
func errorName(_ error: KVSError) -> String {
    error.name.withUTF8Buffer { buffer in String(decoding: buffer, as: UTF8.self) }
}

/// `value` as 0x-prefixed hexadecimal.
func hex(_ value: UInt) -> String {
    let digits: StaticString = "0123456789ABCDEF"
    var text = ""
    var shift = 28
    while shift >= 0 {
        let digit = Int((value >> UInt(shift)) & 0xF)
        text += String(decoding: CollectionOfOne(digits.utf8Start[digit]), as: UTF8.self)
        shift -= 4
    }
    return "0x" + text
}

/// A ``FlashMemory`` over a board's driver that cuts power at one program
/// or erase operation (counted by a ``PowerSupply``): the failing program
/// stores only its first half (whole alignment units) through the driver;
/// the failing erase erases the sector through the driver, then programs
/// the old contents of its second half back (a half-erased sector); every
/// later change is refused. Reads pass through.
struct TornFlash<Base: FlashMemory>: FlashMemory {
    var base: Base
    let power: PowerSupply

    init(_ base: Base, power: PowerSupply) {
        self.base = base
        self.power = power
    }

    var sectorSize: Int { base.sectorSize }
    var sectorCount: Int { base.sectorCount }
    var alignment: Int { base.alignment }
    var erasedByte: UInt8 { base.erasedByte }

    mutating func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        try base.read(at: address, into: &buffer)
    }

    mutating func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        guard !power.isOff else { throw .unavailable }
        if power.startOperation(isErase: false) {
            let torn = bytes.count / 2 / alignment * alignment
            if torn > 0 { try base.write(at: address, bytes.extracting(0..<torn)) }
            throw .unavailable
        }
        try base.write(at: address, bytes)
    }

    mutating func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        guard !power.isOff else { throw .unavailable }
        if power.startOperation(isErase: true) {
            let half = sectorSize / 2
            var saved = [UInt8](repeating: 0, count: half)
            var savedSpan = saved.mutableSpan
            try base.read(at: address + half, into: &savedSpan)
            try base.erase(at: address, sectorCount: 1)
            // Program back the stale half in chunks, skipping erased ones.
            let chunk = max(alignment, 16)
            var offset = 0
            while offset < half {
                var erased = true
                for index in offset..<(offset + chunk) where saved[index] != erasedByte { erased = false }
                if !erased {
                    try base.write(at: address + half + offset, saved.span.extracting(offset..<(offset + chunk)))
                }
                offset += chunk
            }
            throw .unavailable
        }
        try base.erase(at: address, sectorCount: count)
    }
}

/// The store tests over one flash driver.
enum BoardStoreTests {
    static let format = testFormat

    /// A store over `flash`, initialized (any error fails the test).
    static func open<Flash: FlashMemory>(_ flash: Flash, capacity: Int, redundancy: Int,
                                         line: UInt = #line) -> KeyValueStore<Flash> {
        do throws(KVSError) {
            let store = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: capacity,
                                          redundancy: redundancy)
            try store.initialize()
            return store
        } catch {
            fail("opening a store: \(errorName(error))", line: line)
        }
    }

    /// Erases every sector of `flash` through its driver.
    static func eraseAll<Flash: FlashMemory>(_ flash: Flash) {
        var flash = flash
        attempt { () throws(KVSError) in try flash.erase(at: 0, sectorCount: flash.sectorCount) }
    }

    static func version<Flash>(_ store: KeyValueStore<Flash>, key: Int, candidates: ClosedRange<Int>) -> Int {
        do throws(KVSError) {
            return try store.storedTestVersion(key: key, candidates: candidates)
        } catch {
            print("    key \(key): read threw \(errorName(error))")
            return -2
        }
    }

    /// Every test key holds its model version; the invariants hold.
    static func expectModel<Flash>(_ store: KeyValueStore<Flash>, _ model: TestModel,
                                   _ when: @autoclosure () -> String, line: UInt = #line) {
        for key in 0..<64 {
            let expected = model.versions[key]
            let found = version(store, key: key, candidates: max(expected, 1)...max(expected, 1))
            check(found == expected, "\(when()): key \(key) reads version \(found), expected \(expected)", line: line)
        }
        check(store.count == model.presentCount, "\(when()): count \(store.count), expected \(model.presentCount)",
              line: line)
        let violations = store.invariantViolations()
        check(violations.isEmpty, "\(when()): invariant broken: \(violations.first ?? "")", line: line)
    }

    /// Put, overwrite, delete, typed and String keys, iteration, then a
    /// new store over the same flash (a reboot) finds everything.
    static func basics<Flash: FlashMemory>(_ flash: Flash, capacity: Int, redundancy: Int) {
        eraseAll(flash)
        let store = open(flash, capacity: capacity, redundancy: redundancy)
        var model = TestModel()
        attempt { () throws(KVSError) in
            for key in 0..<10 {
                try store.putTestValue(key: key, version: 1)
                model.versions[key] = 1
            }
            try store.putTestValue(key: 3, version: 2)
            model.versions[3] = 2
            try store.deleteTestKey(5)
            model.versions[5] = 0
        }
        expectModel(store, model, "after put/overwrite/delete")
        expectError(.notFound, "delete of a deleted key") { () throws(KVSError) in try store.deleteTestKey(5) }
        attempt { () throws(KVSError) in
            try store.put("boot/count", value: UInt32(41))
            let boots: UInt32 = try store.get("boot/count")
            try store.put("boot/count", value: boots + 1)
            check(try store.get("boot/count", as: UInt32.self) == 42, "typed put/get of UInt32")
            try store.delete("boot/count")
        }
        var iterated = 0
        for _ in store.items { iterated += 1 }
        check(iterated == model.presentCount, "iteration visits every key")
        let rebooted = open(flash, capacity: capacity, redundancy: redundancy)
        expectModel(rebooted, model, "after re-initialization")
        print("ok  put/get/delete over the driver: 10 keys, overwrite, delete, typed UInt32, iteration; "
            + "a new store over the same flash found all \(model.presentCount)")
    }

    /// Overwrites until every sector was erased twice; re-initializes.
    static func garbageCollection<Flash: FlashMemory>(_ flash: Flash, capacity: Int, redundancy: Int) {
        eraseAll(flash)
        let store = open(flash, capacity: capacity, redundancy: redundancy)
        var model = TestModel()
        var overwrites = 0
        attempt { () throws(KVSError) in
            for key in 0..<12 {
                try store.putTestValue(key: key, version: 1)
                model.versions[key] = 1
            }
            while store.storageStats.sectorEraseCount < 2 * flash.sectorCount {
                overwrites += 1
                let key = overwrites % 12
                try store.putTestValue(key: key, version: overwrites + 1)
                model.versions[key] = overwrites + 1
                check(overwrites < 20_000, "garbage collection runs")
            }
        }
        expectModel(store, model, "after garbage collection")
        let rebooted = open(flash, capacity: capacity, redundancy: redundancy)
        expectModel(rebooted, model, "re-initialized after garbage collection")
        print("ok  garbage collection over the driver: \(overwrites) overwrites, "
            + "\(store.storageStats.sectorEraseCount) sector erases; re-init found all \(model.presentCount) keys")
    }

    struct Interrupted {
        var key: Int
        var newVersion: Int
        var isDelete: Bool
        var versionIfCompleted: Int { isDelete ? 0 : newVersion }
    }

    static let cutKeys = 6

    /// `steps` puts and deletes over 6 keys through `flash`, stopping at
    /// the power cut. Returns the committed model and the interrupted write.
    static func cutWorkload<Flash: FlashMemory>(_ flash: TornFlash<Flash>, steps: Int, redundancy: Int)
        -> (TestModel, Interrupted?)
    {
        var model = TestModel()
        let store = open(flash, capacity: 8, redundancy: redundancy)
        for step in 0..<steps {
            let key = (step &* 5) % cutKeys
            let write = Interrupted(key: key, newVersion: step + 1,
                                    isDelete: step % 9 == 8 && model.versions[key] > 0)
            do throws(KVSError) {
                if write.isDelete {
                    try store.deleteTestKey(key)
                } else {
                    try store.putTestValue(key: key, version: write.newVersion)
                }
            } catch {
                check(flash.power.isOff, "step \(step) failed with \(errorName(error)) before the power cut")
                return (model, write)
            }
            model.versions[key] = write.versionIfCompleted
        }
        return (model, nil)
    }

    /// Cuts power at every `stride`-th program or erase operation of a
    /// workload that fills the flash about twice; after each cut a new store
    /// over the driver initializes, every committed key reads its value (the
    /// interrupted one old or new), the invariants hold and writes succeed.
    static func powerCuts<Flash: FlashMemory>(_ flash: Flash, steps: Int, redundancy: Int, stride: Int) {
        eraseAll(flash)
        let dryRun = PowerSupply()
        _ = cutWorkload(TornFlash(flash, power: dryRun), steps: steps, redundancy: redundancy)
        let operations = dryRun.operations
        var cuts = 0
        var erasesCut = 0
        var failing = 1
        while failing <= operations {
            eraseAll(flash)
            let power = PowerSupply(failingOperation: failing)
            let (committed, interrupted) = cutWorkload(TornFlash(flash, power: power), steps: steps,
                                                       redundancy: redundancy)
            check(interrupted != nil, "cut \(failing) interrupted a write")
            if power.failedDuringErase { erasesCut += 1 }
            let rebooted = open(flash, capacity: 8, redundancy: redundancy)
            var model = committed
            for key in 0..<cutKeys {
                if let interrupted, interrupted.key == key {
                    let found = version(rebooted, key: key, candidates: 1...interrupted.newVersion)
                    check(found == committed.versions[key] || found == interrupted.versionIfCompleted,
                          "cut \(failing): interrupted key \(key) holds \(found), neither old "
                            + "\(committed.versions[key]) nor new \(interrupted.versionIfCompleted)")
                    model.versions[key] = found
                } else {
                    let expected = committed.versions[key]
                    check(version(rebooted, key: key, candidates: max(expected, 1)...max(expected, 1)) == expected,
                          "cut \(failing): committed key \(key) lost version \(expected)")
                }
            }
            attempt { () throws(KVSError) in
                for round in 0..<12 {
                    let key = round % cutKeys
                    try rebooted.putTestValue(key: key, version: 1000 + round)
                    model.versions[key] = 1000 + round
                }
            }
            expectModel(rebooted, model, "cut \(failing): 12 writes after recovery")
            cuts += 1
            failing += stride
        }
        board.powerCuts += cuts
        print("ok  power cuts through the driver, redundancy \(redundancy): \(cuts) cuts"
            + (stride == 1 ? " (every one" : " (every \(stride)th") + " of \(operations) program/erase operations, "
            + "\(erasesCut) during an erase); committed keys survived, invariants held, 12 writes after each")
    }

    /// No heap after initialize(); the store's heap and the deepest stack
    /// of initialize, put, get and delete over a workload with garbage
    /// collection and a re-initialization.
    static func footprint<Flash: FlashMemory>(_ flash: Flash, capacity: Int, redundancy: Int, keys: Int) {
        eraseAll(flash)
        let before = HeapSnapshot.now
        let created: KeyValueStore<Flash>
        do throws(KVSError) {
            created = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: capacity,
                                        redundancy: redundancy)
        } catch {
            fail("KeyValueStore.init threw \(errorName(error))")
        }
        let construction = HeapSnapshot.now.since(before)
        board.storeHeap = construction.requestedBytes
        board.storeAllocations = construction.allocations
        var store = created
        var model = TestModel()

        /// Runs `body`, which returns a depth from ``measureStack``.
        func measured(_ body: () throws(KVSError) -> Int) -> Int {
            do throws(KVSError) {
                return try body()
            } catch {
                fail("operation threw \(errorName(error))")
            }
        }
        let heapBefore = HeapSnapshot.now
        board.stackInitialize = measured { () throws(KVSError) in
            try measureStack { () throws(KVSError) in try store.initialize() }
        }
        var version = 1
        for round in 0..<(keys * 12) {
            let key = round % keys
            version += 1
            let used = measured { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in
                    try withTestValue(key: key, version: version) { value throws(KVSError) in
                        try measureStack { () throws(KVSError) in try store.put(name, value) }
                    }
                }
            }
            board.stackPut = max(board.stackPut, used)
            model.versions[key] = version
        }
        for key in 0..<keys {
            let used = measured { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in
                    var bytes = InlineArray<64, UInt8>(repeating: 0)
                    var buffer = bytes.mutableSpan
                    return try measureStack { () throws(KVSError) in _ = try store.get(name, into: &buffer) }
                }
            }
            board.stackGet = max(board.stackGet, used)
        }
        for key in (keys - 2)..<keys {
            let used = measured { () throws(KVSError) in
                try withTestKey(key) { name throws(KVSError) in
                    try measureStack { () throws(KVSError) in try store.delete(name) }
                }
            }
            board.stackDelete = max(board.stackDelete, used)
            model.versions[key] = 0
        }
        let heapAfter = HeapSnapshot.now.since(heapBefore)
        check(heapAfter.allocations == 0,
              "initialize/put/get/delete allocated \(heapAfter.allocations) times (\(heapAfter.requestedBytes) B)")
        check(store.storageStats.sectorEraseCount > 0, "the footprint workload ran garbage collection")
        do throws(KVSError) {
            store = try KeyValueStore(partition: FlashPartition(flash), format: format, capacity: capacity,
                                      redundancy: redundancy)
        } catch {
            fail("KeyValueStore.init threw \(errorName(error))")
        }
        let reinit = measured { () throws(KVSError) in
            try measureStack { () throws(KVSError) in try store.initialize() }
        }
        board.stackInitialize = max(board.stackInitialize, reinit)
        expectModel(store, model, "after the footprint workload")
        print("ok  no heap after initialize(): \(keys * 12) puts (garbage collection), \(keys) gets, 2 deletes, "
            + "re-init allocated nothing; store heap \(board.storeHeap) B in \(board.storeAllocations) allocations "
            + "(\(capacity) keys, \(flash.sectorCount) sectors, redundancy \(redundancy)); deepest stack: initialize "
            + "\(board.stackInitialize) B, put \(board.stackPut) B, get \(board.stackGet) B, delete \(board.stackDelete) B")
    }
}
