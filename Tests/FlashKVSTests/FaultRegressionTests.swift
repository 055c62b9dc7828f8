import Testing
import FlashKVS
import FlashKVSStress

/// Issue 17's six findings, each reproduced through the public API on the
/// geometry it was reported with. The images are built by running
/// operations and cutting power with `RAMFlash.schedulePowerCut` at the
/// program or erase named in each test (found and minimized with the fault
/// sweep); every test first checks that the cut produced the state the
/// finding describes, then what the issue requires.
@Suite("Fault regressions (issue 17)")
struct FaultRegressionTests {
    typealias Operation = SweepWorkload.Operation

    /// A put of `length` bytes, all `fill`.
    static func put(_ key: String, _ length: Int, _ fill: UInt8) -> Operation {
        .put(key, [UInt8](repeating: fill, count: length))
    }

    static func workload(
        _ sectorSize: Int, _ sectorCount: Int, alignment: Int, redundancy: Int, checksum: Checksum = .crc16,
        _ operations: [Operation]
    ) -> SweepWorkload {
        SweepWorkload(name: "regression", sectorSize: sectorSize, sectorCount: sectorCount, alignment: alignment,
                      redundancy: redundancy, capacity: 16, checksum: checksum, operations: operations)
    }

    /// Runs `workload` on a new flash with the power cut at program/erase
    /// `cut` (counted from the first) in `state`; returns the flash after
    /// power is restored, and the values the model must read: the
    /// committed ones, and the key in flight with its old and new value.
    static func image(_ workload: SweepWorkload, cut: Int, _ state: Interruption) throws
        -> (flash: RAMFlash, committed: [String: [UInt8]], inFlight: (key: String, old: [UInt8]?, new: [UInt8]?)?)
    {
        let flash = workload.makeFlash()
        flash.schedulePowerCut(atOperation: cut, interruption: state)
        var store = try #require(workload.makeStore(flash))
        try store.initialize()
        var committed: [String: [UInt8]] = [:]
        var inFlight: (key: String, old: [UInt8]?, new: [UInt8]?)? = nil
        for operation in workload.operations {
            switch operation {
            case .put(let key, let value): inFlight = (key, committed[key], value)
            case .delete(let key): inFlight = (key, committed[key], nil)
            default: inFlight = nil
            }
            do throws(KVSError) {
                try workload.perform(operation, on: &store, flash: flash)
            } catch {
                #expect(flash.isPoweredOff, "\(operation) threw \(error) before the cut")
                break
            }
            if let current = inFlight { committed[current.key] = current.new }
            inFlight = nil
        }
        #expect(flash.isPoweredOff, "the cut was reached")
        flash.restorePower()
        return (flash, committed, inFlight)
    }

    /// Whether sector `sector` holds only erased bytes.
    static func isErased(_ flash: RAMFlash, sector: Int) -> Bool {
        (sector * flash.sectorSize..<(sector + 1) * flash.sectorSize).allSatisfy { flash[$0] == flash.erasedByte }
    }

    /// What the issue requires after any single interruption: initialize()
    /// succeeds, every committed key reads its value, the key in flight its
    /// old or new one, and 21 puts succeed without any maintenance call and
    /// read back, also after a reboot.
    static func expectRecovers(
        _ workload: SweepWorkload, _ flash: RAMFlash, committed: [String: [UInt8]],
        inFlight: (key: String, old: [UInt8]?, new: [UInt8]?)?, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let store = try #require(workload.makeStore(flash))
        #expect(throws: Never.self, "initialize() after the cut", sourceLocation: sourceLocation) { try store.initialize() }
        var values = committed
        for (key, value) in committed where key != inFlight?.key {
            #expect((try? store.get(key)) == value, "committed key \(key)", sourceLocation: sourceLocation)
        }
        if let inFlight {
            let read = try? store.get(inFlight.key)
            #expect(read == inFlight.old || read == inFlight.new, "in-flight key \(inFlight.key)", sourceLocation: sourceLocation)
            values[inFlight.key] = read
        }
        let listed = Set(store.items.map { String(decoding: $0.key, as: UTF8.self) })
        #expect(listed == Set(values.keys), "iteration lists exactly the present keys", sourceLocation: sourceLocation)
        // 21 puts, no maintenance call first: a new key, then each present key
        // rewritten in turn with a value of its own size.
        let keys = values.keys.sorted()
        for round in 0...20 {
            let key = round == 0 || keys.isEmpty ? "new" : keys[(round - 1) % keys.count]
            let value = SweepWorkload.randomValue(9000 + round, length: max(1, values[key]?.count ?? 24))
            do throws(KVSError) {
                try store.put(key, value)
                values[key] = value
            } catch {
                Issue.record("put \(round) of 21 (\(key), \(value.count) B) threw \(error), state \(store.state)",
                             sourceLocation: sourceLocation)
                return
            }
        }
        for (key, value) in values { #expect((try? store.get(key)) == value, "\(key) reads back", sourceLocation: sourceLocation) }
        // A reboot after the writes sees the same keys (nothing torn comes back).
        let rebooted = try #require(workload.makeStore(flash))
        #expect(throws: Never.self, "initialize() after the writes", sourceLocation: sourceLocation) { try rebooted.initialize() }
        let relisted = Set(rebooted.items.map { String(decoding: $0.key, as: UTF8.self) })
        #expect(relisted == Set(values.keys), "after a reboot, iteration lists exactly the present keys", sourceLocation: sourceLocation)
        for (key, value) in values { #expect((try? rebooted.get(key)) == value, "\(key) after a reboot", sourceLocation: sourceLocation) }
    }

    // MARK: (a) A power cut during garbage collection leaves no erased sector

    @Test("(a) 6 x 512 B, alignment 16, redundancy 2: a cut after the GC copy, before erasing the source")
    func garbageCollectionCutBeforeErase() throws {
        let workload = Self.workload(512, 6, alignment: 16, redundancy: 2, [
            Self.put("k1", 183, 1), Self.put("boot-count", 4, 2), .delete("boot-count"), Self.put("wifi", 99, 4),
            Self.put("a", 40, 5), Self.put("cfg/x", 53, 6), .heavyMaintenance, Self.put("wifi", 213, 8), .delete("a"),
            Self.put("k1", 242, 10), Self.put("k1", 45, 11), Self.put("k1", 222, 12), Self.put("k1", 59, 13),
            Self.put("k1", 159, 14), Self.put("boot-count", 36, 15), Self.put("boot-count", 8, 16), Self.put("a", 35, 17),
            // Needs space: collects sector 4, copying cfg/x's copy into sector 3, the last erased one.
            Self.put("k1", 142, 18),
        ])
        // Program/erase 63 is the erase of sector 4; the cut comes before it.
        let (flash, committed, inFlight) = try Self.image(workload, cut: 63, .notApplied)
        #expect(flash.lastMediumOperationWasErase)
        #expect((0..<6).allSatisfy { !Self.isErased(flash, sector: $0) }, "no erased sector is left")
        try Self.expectRecovers(workload, flash, committed: committed, inFlight: inFlight)
    }

    @Test("(a) 4 x 256 B, alignment 8, redundancy 1: a GC copy torn in the last erased sector")
    func garbageCollectionTornCopy() throws {
        let workload = Self.workload(256, 4, alignment: 8, redundancy: 1, [
            Self.put("c", 32, 1), Self.put("b", 32, 2), Self.put("d", 2, 3), Self.put("d", 55, 4), Self.put("e", 103, 5),
            Self.put("d", 17, 6), Self.put("a", 94, 7), Self.put("a", 25, 8), Self.put("e", 82, 9),
            // Needs space: collects sector 2, copying d and a into sector 0, the last erased one; a's copy is torn.
            Self.put("e", 59, 10),
        ])
        let (flash, committed, inFlight) = try Self.image(workload, cut: 10, .programPrefix)
        #expect(!flash.lastMediumOperationWasErase)
        #expect((0..<4).allSatisfy { !Self.isErased(flash, sector: $0) }, "no erased sector is left")
        try Self.expectRecovers(workload, flash, committed: committed, inFlight: inFlight)
    }

    // MARK: (b) A partly erased sector makes later puts fail

    @Test("(b) 4 x 256 B, alignment 8: an erase cut halfway, then puts throw RESOURCE_EXHAUSTED")
    func partlyErasedSector() throws {
        let workload = Self.workload(256, 4, alignment: 8, redundancy: 1, [
            Self.put("c", 11, 1), Self.put("d", 33, 2), Self.put("e", 10, 3), Self.put("e", 38, 4),
            Self.put("d", 75, 5), Self.put("c", 67, 6), Self.put("d", 23, 7), Self.put("b", 44, 8),
            Self.put("e", 79, 9), Self.put("a", 50, 10), Self.put("d", 35, 11), Self.put("d", 29, 12),
            Self.put("e", 66, 13), Self.put("e", 43, 14),
            // Needs space: collects sector 3 (a moves to sector 1), then erases it: the cut.
            Self.put("a", 71, 15),
        ])
        let (flash, committed, inFlight) = try Self.image(workload, cut: 16, .erasePartial)
        #expect(flash.lastMediumOperationWasErase)
        // Sector 3: its first half erased, its second half still holds old entries.
        #expect((768..<896).allSatisfy { flash[$0] == 0xFF })
        #expect(!(896..<1024).allSatisfy { flash[$0] == 0xFF })
        try Self.expectRecovers(workload, flash, committed: committed, inFlight: inFlight)
    }

    // MARK: (c) One failed read reads as NOT_FOUND / ALREADY_EXISTS

    enum KeyOperation: String, CaseIterable, Sendable { case get, delete, put }

    @Test("(c) a single failed read in the first read of an operation on a present key", arguments: KeyOperation.allCases)
    func singleFailedRead(operation: KeyOperation) throws {
        let workload = Self.workload(256, 4, alignment: 8, redundancy: 1, [])
        let flash = FaultyFlash(workload.makeFlash())
        let store = try workload.openStore(flash)
        try store.initialize()
        let old: [UInt8] = [1, 2, 3, 4, 5], new: [UInt8] = [9, 9]
        try store.put("a", old)
        try store.put("b", [7])
        #expect(!store.errorDetected)
        // The next read call fails (DEADLINE_EXCEEDED), its buffer scrambled.
        flash.failReads(from: flash.readCalls, count: 1)
        var thrown: KVSError? = nil
        var read: [UInt8]? = nil
        do throws(KVSError) {
            switch operation {
            case .get: read = try store.get("a")
            case .delete: try store.delete("a")
            case .put: try store.put("a", new)
            }
        } catch { thrown = error }
        flash.faultsEnabled = false
        #expect(flash.events.count == 1, "the first read of \(operation) failed")
        #expect(thrown != .notFound && thrown != .alreadyExists, "\(operation)(a) threw \(String(describing: thrown))")
        // The right effect, or the old value after an error.
        let now = try? store.get("a")
        switch (operation, thrown) {
        case (.get, nil): #expect(read == old)
        case (.delete, nil): #expect(now == nil)
        case (.put, nil): #expect(now == new)
        default: #expect(now == old, "a failed \(operation) leaves the old value")
        }
        #expect(!store.errorDetected, "a transient read error does not mark a sector corrupt")
        // The RAM tables agree with flash.
        var freshError: KVSError? = nil
        let differences = StoreAgreement.differences(
            store, image: workload.copy(of: flash.base), extraKeys: ["a", "b"], open: { workload.makeStore($0) },
            freshInitError: &freshError)
        #expect(differences.isEmpty, "\(differences)")
    }

    // MARK: (d) Stale reads after maintenance when reads fail now and then

    /// The address of the newest entry of `key` (parsing headers on the raw bytes).
    static func newestEntry(_ flash: RAMFlash, _ key: String) -> Int? {
        var best: (address: Int, id: UInt32)? = nil
        for sector in 0..<flash.sectorCount {
            var address = sector * flash.sectorSize
            while address + 16 <= (sector + 1) * flash.sectorSize {
                let bytes = (0..<16).map { flash[address + $0] }
                let word = { (offset: Int) in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
                guard word(0) == SweepWorkload.magic else { address += 16; continue }
                let keyLength = Int(bytes[9]), valueSize = Int(bytes[10]) | Int(bytes[11]) << 8
                let alignment = (Int(bytes[8]) + 1) * 16
                let stored = String(decoding: (0..<keyLength).map { flash[address + 16 + $0] }, as: UTF8.self)
                if stored == key, best.map({ $0.id < word(12) }) ?? true { best = (address, word(12)) }
                address += (16 + keyLength + (valueSize == 0xFFFF ? 0 : valueSize) + alignment - 1) / alignment * alignment
            }
        }
        return best?.address
    }

    @Test("(d) 6 x 512 B, redundancy 1: reads that fail now and then during fullMaintenance() bring back old values")
    func staleReadsAfterMaintenance() throws {
        let workload = Self.workload(512, 6, alignment: 16, redundancy: 1, [])
        let flash = FaultyFlash(workload.makeFlash())
        let store = try workload.openStore(flash)
        try store.initialize()
        let x1 = [UInt8](repeating: 1, count: 44), x2 = [UInt8](repeating: 2, count: 44)
        try store.put("x", x1)
        try store.put("pad", [UInt8](repeating: 9, count: 100))
        try store.put("y", [7, 7, 7])
        try store.put("x", x2)
        try store.delete("y")
        let newestX = try #require(Self.newestEntry(flash.base, "x"))
        let tombstoneY = try #require(Self.newestEntry(flash.base, "y"))
        // A transient error in some earlier read (here: get("x")'s value read)
        // is enough for the store to schedule a repair.
        flash.readFault = { _, address, count in address == newestX + 17 && count == 44 ? .deadlineExceeded : nil }
        _ = try? store.get("x")
        // During fullMaintenance(), every other read of the newest x's header
        // and of y's tombstone fails (each scan and each rescan sees one failure).
        var reads = [newestX: 0, tombstoneY: 0]
        flash.readFault = { _, address, count in
            guard count == 16, let seen = reads[address] else { return nil }
            reads[address] = seen + 1
            return seen % 2 == 0 ? .deadlineExceeded : nil
        }
        _ = try? store.fullMaintenance()
        flash.readFault = nil
        #expect(reads[newestX]! > 0 && reads[tombstoneY]! > 0, "the faults fired")
        #expect((try? store.get("x")) == x2, "put(x) succeeded: get(x) never returns the earlier value")
        #expect(throws: KVSError.notFound, "delete(y) succeeded: y stays deleted") { try store.get("y") }
        let rebooted = try workload.openStore(flash)
        try? rebooted.initialize()
        #expect((try? rebooted.get("x")) == x2, "after a reboot too")
        #expect(throws: KVSError.notFound) { try rebooted.get("y") }
    }

    @Test("(d) 3 x 256 B, redundancy 2: a heavy maintenance stopped by a read error left tombstones, and a later put found no room")
    func putAfterHeavyMaintenanceStoppedByReadErrors() throws {
        // The read-fault sweep's 3x256-a16-r2-crc16-reads, operations 0 to 30:
        // read call 4 of operation 27 (heavy maintenance) and the two after it
        // fail, so the maintenance stops before it drops the deleted keys' tombstones.
        let workload = Self.workload(256, 3, alignment: 16, redundancy: 2, [
            Self.put("a", 64, 1), Self.put("a", 84, 2), Self.put("a", 90, 3), .heavyMaintenance, .delete("a"),
            Self.put("k1", 16, 4), Self.put("k1", 1, 5), Self.put("k1", 15, 6), Self.put("k1", 43, 7),
            Self.put("k1", 43, 7), Self.put("k1", 39, 8), Self.put("k1", 6, 9), .partialMaintenance, .delete("k1"),
            Self.put("k1", 15, 10), Self.put("wifi", 11, 11), Self.put("wifi", 20, 12), Self.put("k1", 7, 13),
            .delete("wifi"), .partialMaintenance,
        ])
        let flash = FaultyFlash(workload.makeFlash())
        var store = try workload.openStore(flash)
        try store.initialize()
        for operation in workload.operations { _ = try? workload.perform(operation, on: &store, flash: flash) }
        flash.failReads(from: flash.readCalls + 4, count: 3)
        #expect(throws: KVSError.self) { try store.heavyMaintenance() }
        flash.failingReads = 0..<0
        // The same puts as a store whose maintenance was not stopped.
        let values = [SweepWorkload.randomValue(14, length: 61), SweepWorkload.randomValue(15, length: 91),
                      SweepWorkload.randomValue(16, length: 74)]
        for value in values {
            #expect(throws: Never.self) { try store.put("k1", value) }
            #expect((try? store.get("k1")) == value)
        }
        let rebooted = try workload.openStore(flash)
        try rebooted.initialize()
        #expect((try? rebooted.get("k1")) == values[2])
        #expect(rebooted.items.map(\.key).count == 1)
    }

    // MARK: (e) A sector of random bytes with redundancy 2 makes init refuse

    /// Ten keys with redundancy 2 on 4 x 4 KiB.
    static func redundantStore() throws -> (SweepWorkload, RAMFlash, [String: [UInt8]]) {
        let workload = Self.workload(4096, 4, alignment: 16, redundancy: 2, [])
        let flash = workload.makeFlash()
        let store = try workload.openStore(flash)
        try store.initialize()
        var values: [String: [UInt8]] = [:]
        for index in 0..<10 {
            let value = SweepWorkload.randomValue(index, length: 40 + 30 * index)
            try store.put("key\(index)", value)
            values["key\(index)"] = value
        }
        return (workload, flash, values)
    }

    @Test("(e) 4 x 4 KiB, redundancy 2: a sector of random bytes is damage, repaired from the other copies")
    func randomSectorWithRedundancy() throws {
        let (workload, flash, values) = try Self.redundantStore()
        // Overwrite a written sector with random bytes. About 1 random sector
        // in 70 starts with 16 bytes that parse as a plausible header (key
        // length 1...63, entry inside the sector): the first such seed.
        let sector = try #require((0..<4).first { !Self.isErased(flash, sector: $0) })
        var bytes: [UInt8] = []
        for seed in UInt64(1)... {
            var random = StressRandom(seed: seed)
            bytes = (0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let keyLength = Int(bytes[9]), valueSize = Int(bytes[10]) | Int(bytes[11]) << 8
            if (1...63).contains(keyLength) && 16 + keyLength + valueSize <= 4096 { break }
        }
        for offset in 0..<4096 { flash[sector * 4096 + offset] = bytes[offset] }
        let store = try workload.openStore(flash)
        #expect(throws: Never.self, "initialize() repairs the damaged sector") { try store.initialize() }
        #expect(store.state == .ready)
        for (key, value) in values { #expect((try? store.get(key)) == value, "\(key) from its other copy") }
        for round in 0..<20 {
            do throws(KVSError) { try store.put("key\(round % 10)", [UInt8(round)]) } catch {
                Issue.record("put \(round) of 20 threw \(error), state \(store.state)")
                break
            }
        }
    }

    @Test("(e, guard) entries of a format the store does not know still make init refuse (passes today)")
    func foreignFormatStillRefused() throws {
        let (workload, flash, _) = try Self.redundantStore()
        // A sector of well-formed entries of another magic: another configuration's data.
        let foreignFlash = workload.makeFlash()
        let foreign = try KeyValueStore(partition: FlashPartition(foreignFlash), format: EntryFormat(magic: 0x0bad_cafe, checksum: .crc16),
                                        capacity: 16, redundancy: 1)
        try foreign.initialize()
        for index in 0..<12 { try foreign.put("f\(index)", SweepWorkload.randomValue(100 + index, length: 60)) }
        let source = try #require((0..<4).first { !Self.isErased(foreignFlash, sector: $0) })
        let sector = try #require((0..<4).first { !Self.isErased(flash, sector: $0) })
        for offset in 0..<4096 { flash[sector * 4096 + offset] = foreignFlash[source * 4096 + offset] }
        let store = try workload.openStore(flash)
        #expect(throws: KVSError.failedPrecondition) { try store.initialize() }
        #expect(store.lastScan.unrecognizedData)
    }

    // MARK: (f) Checksum none: a torn write reads back as valid

    @Test("(f) checksum none, 4 x 256 B: a put cut halfway through its program reads neither old nor new")
    func tornWriteWithoutChecksum() throws {
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: .none, [
            Self.put("a", 5, 1), .put("k1", SweepWorkload.randomValue(2, length: 109)),
        ])
        // Every program of k1's entry (128 B) cut halfway: only its first half arrives.
        try Self.expectEveryCutRecovers(workload, during: "k1", .programPrefix)
    }

    /// Cuts every program or erase made while `key`'s put or delete is in
    /// flight (after `committedKey` was written, if given; the format may
    /// split an entry into several programs), in `state`, and expects each
    /// image to recover.
    static func expectEveryCutRecovers(
        _ workload: SweepWorkload, during key: String, _ state: Interruption,
        committedKey: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let dryRun = workload.makeFlash()
        var store = try #require(workload.makeStore(dryRun))
        try store.initialize()
        for operation in workload.operations { try workload.perform(operation, on: &store, flash: dryRun) }
        var cuts = 0
        for cut in 0..<dryRun.mediumOperations {
            let (flash, committed, inFlight) = try image(workload, cut: cut, state)
            guard inFlight?.key == key, committedKey.map({ committed[$0] != nil }) ?? true else { continue }
            cuts += 1
            try expectRecovers(workload, flash, committed: committed, inFlight: inFlight, sourceLocation: sourceLocation)
        }
        #expect(cuts > 0, "no program while \(key) was in flight", sourceLocation: sourceLocation)
    }

    @Test("(f) checksum none, 4 x 256 B: a torn GC copy of a key nobody wrote serves a wrong value")
    func tornGarbageCollectionCopyWithoutChecksum() throws {
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: .none, [
            .put("c", SweepWorkload.randomValue(1, length: 71)), .put("a", SweepWorkload.randomValue(2, length: 51)),
            .put("a", SweepWorkload.randomValue(3, length: 75)), .put("b", SweepWorkload.randomValue(4, length: 68)),
            .put("a", SweepWorkload.randomValue(5, length: 70)), .put("a", SweepWorkload.randomValue(6, length: 97)),
            // Needs space: collects sector 2, copying b into sector 0; the copy is torn.
            .put("c", SweepWorkload.randomValue(7, length: 67)),
        ])
        try Self.expectEveryCutRecovers(workload, during: "c", .programPrefix, committedKey: "b")
    }

    // MARK: (f) Checksum none: an erase cut with the sector's start intact

    /// Cuts every erase of `workload` in the eraseTailOnly state and
    /// checks that each image recovers (``expectRecovers``); at least one cut.
    static func expectEveryEraseTailOnlyImageRecovers(
        _ workload: SweepWorkload, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let images = try eraseTailOnlyImages(workload)
        #expect(images.count > 0, sourceLocation: sourceLocation)
        for image in images {
            try expectRecovers(workload, image.flash, committed: image.committed, inFlight: image.inFlight,
                               sourceLocation: sourceLocation)
        }
    }

    /// The entry torn by an erase cut in the sweep's `eraseTailOnly` state
    /// (the sector's second half erased, its first half intact), for every
    /// erase of `workload` made while `key` is in flight (every erase if
    /// nil): the cut images, each with its sector damaged so.
    static func eraseTailOnlyImages(_ workload: SweepWorkload, during key: String? = nil, onlyCut: Int? = nil) throws
        -> [(cut: Int, flash: RAMFlash, committed: [String: [UInt8]], inFlight: (key: String, old: [UInt8]?, new: [UInt8]?)?)]
    {
        let recorder = FaultyFlash(workload.makeFlash())
        recorder.recordsMediumOperations = true
        #expect(workload.dryRunFailure(on: recorder) == nil)
        var images: [(Int, RAMFlash, [String: [UInt8]], (key: String, old: [UInt8]?, new: [UInt8]?)?)] = []
        for (cut, operation) in recorder.mediumOperations.enumerated()
        where operation.isErase && (onlyCut == nil || cut == onlyCut) {
            let (flash, committed, inFlight) = try image(workload, cut: cut, .notApplied)
            guard key == nil || inFlight?.key == key else { continue }
            for address in (operation.address + operation.length / 2)..<(operation.address + operation.length) {
                flash[address] = flash.erasedByte
            }
            images.append((cut, flash, committed, inFlight))
        }
        return images
    }

    @Test("(f) checksum none, 4 x 256 B: an erase cut through a GC-copied entry leaves a torn duplicate that init served")
    func eraseTailOnlyTornDuplicateWithoutChecksum() throws {
        // The sweep's 4x256-a16-r1-none, operations 0 to 5: the second heavy
        // maintenance copies k1 out of sector 1, then erases sector 1; the
        // erase cut leaves k1's old copy (same transaction id) torn, and sector
        // 1 is scanned before the sector holding the good copy.
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: .none, [
            Self.put("a", 26, 1), Self.put("k1", 65, 2), Self.put("wifi", 111, 3), .heavyMaintenance,
            Self.put("a", 95, 4), .heavyMaintenance,
        ])
        try Self.expectEveryEraseTailOnlyImageRecovers(workload)
    }

    @Test("(f) checksum none, 4 x 256 B: an erase cut through the key of a GC-copied entry leaves a phantom key")
    func eraseTailOnlyPhantomTwinWithoutChecksum() throws {
        // Sector 0: x (112 B), then k at offset 112, its key at 128, where the
        // erased tail starts. x is rewritten; heavy maintenance copies k to
        // another sector and erases sector 0: the cut leaves k's old copy with
        // an erased key and value (a key "\u{FF}" of k's transaction id).
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: .none, [
            Self.put("x", 95, 1), Self.put("k", 20, 2), Self.put("x", 95, 3), .heavyMaintenance,
        ])
        try Self.expectEveryEraseTailOnlyImageRecovers(workload)
    }

    @Test("(f) checksum none, 4 x 256 B: an erase cut through the key of a superseded entry with no twin left a phantom key")
    func eraseTailOnlyPhantomKeyWithoutTwinWithoutChecksum() throws {
        // The sweep's 4x256-a16-r1-none, operations 0 to 22: the last heavy
        // maintenance erases sector 1, whose last entry is an old version of
        // a (no other copy of that version is left on flash); the cut erases
        // its key and value, and init listed a key "\u{FF}" nobody wrote.
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: .none, [
            Self.put("a", 26, 1), Self.put("k1", 65, 2), Self.put("wifi", 111, 3), .heavyMaintenance,
            Self.put("a", 95, 4), .heavyMaintenance, Self.put("k1", 86, 5), Self.put("wifi", 3, 6), .get("k1"),
            .get("wifi"), Self.put("a", 105, 7), .get("k1"), Self.put("a", 7, 8), Self.put("k1", 32, 9),
            Self.put("wifi", 83, 10), Self.put("a", 31, 11), Self.put("k1", 97, 12), .heavyMaintenance,
            Self.put("a", 10, 13), Self.put("a", 50, 14), Self.put("k1", 97, 15), Self.put("a", 81, 16),
            .heavyMaintenance,
        ])
        try Self.expectEveryEraseTailOnlyImageRecovers(workload)
    }

    @Test("(f) checksum none: an erase cut whose erased tail starts inside the last entry's header (its transaction id) leaves no phantom key", arguments: [8, 10, 12])
    func eraseTailThroughTheLastHeaderWithoutChecksum(erasedFrom headerOffset: Int) throws {
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: .none, [])
        let flash = workload.makeFlash()
        let store = try workload.openStore(flash)
        try store.initialize()
        let a1 = [UInt8](repeating: 0xA1, count: 40)
        try store.put("a", a1)
        try store.put("b", [UInt8](repeating: 0xB0, count: 20))
        try store.put("a", [UInt8](repeating: 0xA2, count: 40))
        // One sector holds a, b, a; the erase cut leaves b's header erased
        // from byte `headerOffset` on (value size, transaction id or both)
        // and everything after it in the sector: b's key and value read 0xFF.
        let b = try #require(Self.newestEntry(flash, "b"))
        let sectorEnd = (b / flash.sectorSize + 1) * flash.sectorSize
        let a2 = try #require(Self.newestEntry(flash, "a"))
        try #require(a2 > b && a2 < sectorEnd, "the second a follows b in its sector")
        for address in (b + headerOffset)..<sectorEnd { flash[address] = flash.erasedByte }
        let rebooted = try workload.openStore(flash)
        try rebooted.initialize()
        #expect(rebooted.items.map { String(decoding: $0.key, as: UTF8.self) } == ["a"], "no phantom key")
        #expect(try rebooted.get("a") == a1)
        try rebooted.put("c", [1, 2, 3])
        let again = try workload.openStore(flash)
        try again.initialize()
        #expect(Set(again.items.map { String(decoding: $0.key, as: UTF8.self) }) == ["a", "c"])
    }

    @Test("(f) the rule against keys torn by an erase: checksum-free stores refuse keys ending in the erased byte, and keep entries that only end in erased bytes", arguments: [Checksum.none, .crc16])
    func keysEndingInTheErasedByte(checksum: Checksum) throws {
        let workload = Self.workload(256, 4, alignment: 16, redundancy: 1, checksum: checksum, [])
        let flash = workload.makeFlash()
        let store = try #require(workload.makeStore(flash))
        try store.initialize()
        // 16 + 2 + 14 = 32 bytes: no padding, the entry's last 15 bytes erased,
        // and it is the last entry before the sector's erased space.
        let erasedValue = [UInt8](repeating: flash.erasedByte, count: 14)
        let endsErased: [UInt8] = [0x6B, flash.erasedByte]
        if checksum.byteCount == 0 {
            #expect(throws: KVSError.invalidArgument) { try store.put(endsErased.span, erasedValue.span) }
            #expect(store.items.map(\.key).isEmpty, "the refused put wrote nothing")
        } else {
            try store.put(endsErased.span, erasedValue.span)
        }
        try store.put("k0", erasedValue)
        let rebooted = try #require(workload.makeStore(flash))
        try rebooted.initialize()
        #expect(try rebooted.get("k0") == erasedValue)
        if checksum.byteCount != 0 {
            var read = [UInt8](repeating: 0, count: 14)
            var span = read.mutableSpan
            #expect(try rebooted.get(endsErased.span, into: &span) == 14)
            #expect(read == erasedValue)
        }
    }

    @Test("(f) checksum none, 3 x 512 B, redundancy 2: the repair after an erase cut traded a good copy for the torn one")
    func eraseTailOnlyRepairKeepsTheGoodCopyWithoutChecksum() throws {
        // The sweep's 3x512-a16-r2-none, operations 0 to 35. The last heavy
        // maintenance copies wifi out of sector 1 and erases it; the cut
        // leaves wifi's old copy there torn and no erased sector. Init reads
        // the good copies, but the repair that makes an erased sector pointed
        // wifi's copy at the torn one (same key, same transaction id) and
        // erased the sector of a good one.
        let workload = Self.workload(512, 3, alignment: 16, redundancy: 2, checksum: .none, [
            Self.put("a", 33, 1), Self.put("k1", 36, 2), Self.put("wifi", 14, 3), .reinitialize, Self.put("a", 20, 4),
            .delete("a"), Self.put("wifi", 23, 5), Self.put("wifi", 72, 6), Self.put("k1", 103, 7),
            Self.put("wifi", 14, 8), .get("a"), .heavyMaintenance, .get("k1"), .partialMaintenance, Self.put("a", 3, 9),
            .get("never"), Self.put("wifi", 9, 10), Self.put("wifi", 8, 11), .reinitialize, .delete("k1"),
            .heavyMaintenance, Self.put("a", 141, 12), Self.put("wifi", 54, 13), Self.put("a", 14, 14),
            Self.put("k1", 16, 15), Self.put("wifi", 116, 16), Self.put("cfg/x", 1, 17), .get("k1"),
            Self.put("a", 3, 18), .partialMaintenance, Self.put("cfg/x", 1, 19), Self.put("k1", 16, 20),
            Self.put("wifi", 18, 21), .get("cfg/x"), Self.put("wifi", 102, 22), .heavyMaintenance,
        ])
        let images = try Self.eraseTailOnlyImages(workload, onlyCut: 207)
        try #require(images.count == 1)
        try Self.expectRecovers(workload, images[0].flash, committed: images[0].committed, inFlight: images[0].inFlight)
    }
}
