import FlashKVS
import Testing

/// Atomic batches (issue 22): the API, validation before anything is
/// written, last-wins, and the records on flash.
@Suite("Batches")
struct BatchTests {
    typealias Store = KeyValueStore<RAMFlash>

    static let geometry = StoreGeometry(sectorSize: 512, sectorCount: 4, flashAlignment: 16)

    static func open(_ flash: RAMFlash, _ geometry: StoreGeometry = geometry) throws -> Store {
        let store = try geometry.makeStore(on: flash)
        store.enableBatches()
        try store.initialize()
        return store
    }

    static func value(_ store: Store, _ key: String) throws -> [UInt8]? {
        do { return try store.get(key) } catch .notFound { return nil }
    }

    static func keys(_ store: Store) -> [String] {
        store.items.map { String(decoding: store.key(of: $0), as: UTF8.self) }.sorted()
    }

    @Test("a batch applies its puts and deletes; the reserved key stays hidden")
    func appliesAll() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.open(flash)
        try store.put("old", [1])
        try store.put("gone", [2])
        try store.commit { batch throws(KVSError) in
            try batch.put("wifi/ssid", Array("home".utf8))
            try batch.put("wifi/pass", Array("secret".utf8))
            try batch.put("old", [9, 9])
            try batch.delete("gone")
        }
        #expect(store.lastWriteState == .committed)
        for reopened in [store, try Self.open(flash)] {
            #expect(try Self.value(reopened, "wifi/ssid") == Array("home".utf8))
            #expect(try Self.value(reopened, "wifi/pass") == Array("secret".utf8))
            #expect(try Self.value(reopened, "old") == [9, 9])
            #expect(try Self.value(reopened, "gone") == nil)
            #expect(reopened.count == 3)
            #expect(Self.keys(reopened) == ["old", "wifi/pass", "wifi/ssid"])
            #expect(reopened.invariantViolations() == [])
        }
        // intent + 4 members + commit, each taking one transaction id
        #expect(store.transactionCount == 2 + 6)
    }

    @Test("a key given twice: the last operation wins")
    func lastWins() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.open(flash)
        try store.put("c", [3])
        try store.commit { batch throws(KVSError) in
            try batch.put("a", [1])
            try batch.put("a", [2])
            try batch.put("b", [1])
            try batch.delete("b")          // absent before the batch: nothing written for b
            try batch.delete("c")
            try batch.put("c", [4])
        }
        let reopened = try Self.open(flash)
        #expect(try Self.value(reopened, "a") == [2])
        #expect(try Self.value(reopened, "b") == nil)
        #expect(try Self.value(reopened, "c") == [4])
        #expect(reopened.totalEntriesWithDeleted == 3)  // a, c and the reserved key (deleted)
        // intent + 2 members (a, c) + commit
        #expect(store.transactionCount == 1 + 4)
    }

    @Test("a batch of only no-ops writes nothing")
    func emptyBatch() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.open(flash)
        let before = flash.contents
        try store.commit { batch throws(KVSError) in try batch.delete("absent") }
        try store.commit { _ throws(KVSError) in }
        #expect(flash.contents == before)
    }

    enum Refusal: CaseIterable, Sendable {
        case emptyKey, longKey, reservedKey, valueTooLarge, tooManyOperations, tooManyBytes, keyTableFull,
             noSpace, collision, bodyThrows
    }

    @Test("a refused batch throws before anything is written", arguments: Refusal.allCases)
    func refusedBatchWritesNothing(_ refusal: Refusal) throws {
        var geometry = Self.geometry
        if refusal == .keyTableFull { geometry.capacity = 4 }
        geometry.options = .gcDisabled
        let flash = geometry.makeFlash()
        let store = try Self.open(flash, geometry)
        try store.put("k1", [1])
        try store.put("k2", [UInt8](repeating: 2, count: 100))
        if refusal == .noSpace {
            for index in 0..<8 { try store.put("f\(index)", [UInt8](repeating: 3, count: 100)) }
        }
        let before = flash.contents
        let transactions = store.transactionCount
        let expected: KVSError = switch refusal {
        case .emptyKey, .longKey, .reservedKey, .valueTooLarge: .invalidArgument
        case .tooManyOperations, .tooManyBytes: .outOfRange
        case .keyTableFull, .noSpace: .resourceExhausted
        case .collision: .alreadyExists
        case .bodyThrows: .cancelled
        }
        #expect(throws: expected) {
            try store.commit { batch throws(KVSError) in
                try batch.put("k1", [7])
                switch refusal {
                case .emptyKey: try batch.put([UInt8]().span, [1].span)
                case .longKey: try batch.put(String(repeating: "x", count: 64), [1])
                case .reservedKey: try batch.put(BatchRecord.key.span, [1].span)
                case .valueTooLarge: try batch.put("v", [UInt8](repeating: 0, count: 512))
                case .tooManyOperations: for index in 0..<16 { try batch.put("n\(index)", [1]) }
                case .tooManyBytes: for index in 0..<5 { try batch.put("n\(index)", [UInt8](repeating: 1, count: 100)) }
                case .keyTableFull: try batch.put("n1", [1]); try batch.put("n2", [1])
                case .noSpace: for index in 0..<3 { try batch.put("n\(index)", [UInt8](repeating: 1, count: 100)) }
                case .collision:
                    try batch.put(Self.collidingKeys.0.span, [1].span)
                    try batch.put(Self.collidingKeys.1.span, [1].span)
                case .bodyThrows: throw .cancelled
                }
            }
        }
        #expect(flash.contents == before, "\(refusal): flash changed")
        #expect(store.transactionCount == transactions)
        #expect(store.lastWriteState == .notWritten)
        #expect(try Self.value(store, "k1") == [1])
        #expect(store.invariantViolations() == [])
    }

    /// Two keys of different lengths with the same pw_kvs hash (a
    /// trailing zero byte adds 0 x 65599^n).
    static let collidingKeys: ([UInt8], [UInt8]) = ([0x41], [0x41, 0x00])

    @Test("the reserved key is refused as a user key")
    func reservedKeyRefused() throws {
        let store = try Self.open(Self.geometry.makeFlash())
        let key = BatchRecord.key
        #expect(throws: KVSError.invalidArgument) { try store.put(key.span, [1].span) }
        #expect(throws: KVSError.invalidArgument) { try store.delete(key.span) }
        var buffer = [UInt8](repeating: 0, count: 4)
        var span = buffer.mutableSpan
        #expect(throws: KVSError.invalidArgument) { try store.get(key.span, into: &span) }
    }

    @Test("commit needs enableBatches() before initialize()")
    func needsEnabling() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.geometry.openStore(on: flash)
        #expect(throws: KVSError.failedPrecondition) {
            try store.commit { batch throws(KVSError) in try batch.put("a", [1]) }
        }
        store.enableBatches()
        #expect(throws: KVSError.failedPrecondition) {
            try store.commit { batch throws(KVSError) in try batch.put("a", [1]) }
        }
        try store.initialize()
        try store.commit { batch throws(KVSError) in try batch.put("a", [1]) }
    }

    @Test("a body that makes other calls the second time is rolled back")
    func inconsistentBody() throws {
        let flash = Self.geometry.makeFlash()
        let store = try Self.open(flash)
        try store.put("a", [1])
        var run = 0
        #expect(throws: KVSError.failedPrecondition) {
            try store.commit { batch throws(KVSError) in
                run += 1
                try batch.put("a", [2])
                try batch.put(run == 1 ? "b" : "c", [2])
            }
        }
        #expect(store.lastWriteState == .notWritten)
        for reopened in [store, try Self.open(flash)] {
            #expect(try Self.value(reopened, "a") == [1])
            #expect(try Self.value(reopened, "b") == nil && Self.value(reopened, "c") == nil)
            #expect(reopened.invariantViolations() == [])
        }
        try store.put("d", [4])
    }

    @Test("batches that need garbage collection, many in a row, redundancy 1 and 2", arguments: [1, 2])
    func manyBatches(redundancy: Int) throws {
        var geometry = Self.geometry
        geometry.sectorCount = 8
        geometry.redundancy = redundancy
        let flash = geometry.makeFlash()
        let store = try Self.open(flash, geometry)
        var model: [String: [UInt8]] = [:]
        for round in 0..<60 {
            let a = "k\(round % 5)", b = "k\((round * 3 + 1) % 7)"
            let value = [UInt8](repeating: UInt8(round), count: 20 + round % 40)
            try store.commit { batch throws(KVSError) in
                try batch.put(a, value)
                if round % 4 == 3 { try batch.delete(b) } else { try batch.put(b, [UInt8(round)]) }
            }
            model[a] = value
            if round % 4 == 3 { if a != b { model[b] = nil } } else { model[b] = [UInt8(round)] }
            if a == b && round % 4 == 3 { model[a] = nil }
        }
        let reopened = try Self.open(flash, geometry)
        for (key, value) in model { #expect(try Self.value(reopened, key) == value, "\(key)") }
        #expect(reopened.count == model.count)
        #expect(reopened.invariantViolations() == [])
    }
}
