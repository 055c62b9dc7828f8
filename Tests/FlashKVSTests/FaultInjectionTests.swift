import Testing
import FlashKVS

/// Faults injected at every flash call of a workload (issue 3 item 7): no
/// trap, a documented error, and once the fault clears a re-initialized
/// store returns every key whose write succeeded, with its latest value.
@Suite("Fault injection at every flash call")
struct FaultInjectionTests {
    enum Step {
        case put(String, Int)
        case delete(String)
        case get(String)
        case reinit
        case partial, full, heavy
    }

    /// Updates forcing garbage collection, deletes, new keys, re-init and
    /// maintenance on 4 sectors of 512 bytes.
    static let workload: [Step] = {
        var steps: [Step] = []
        for index in 0..<5 { steps.append(.put("key\(index)", index)) }
        for round in 0..<12 { steps.append(.put("key\(round % 3)", 100 + round)) }
        steps += [.delete("key3"), .get("key1"), .put("new", 7), .reinit, .get("key4"), .partial]
        for round in 0..<6 { steps.append(.put("key\(round % 2)", 200 + round)) }
        steps += [.delete("key0"), .full, .put("key3", 300), .heavy, .get("key3")]
        return steps
    }()

    static func describe(_ value: [UInt8]?) -> String {
        value.map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "absent"
    }

    static func value(_ number: Int) -> [UInt8] {
        Array("value-\(number)-".utf8) + [UInt8](repeating: UInt8(number & 0xFF), count: number % 40)
    }

    /// The values a key may hold: one when certain, two after a failed write.
    struct Model {
        var allowed: [String: Set<[UInt8]?>] = [:]

        func check(_ key: String, _ actual: [UInt8]?) -> Bool {
            (allowed[key] ?? [nil]).contains(actual)
        }
    }

    static func makeStore(_ flash: RAMFlash, redundancy: Int) throws -> KeyValueStore<RAMFlash> {
        try KeyValueStore(partition: FlashPartition(flash), format: EntryFormat(magic: 0x7c1d_9a37, checksum: .crc16),
                          capacity: 16, redundancy: redundancy)
    }

    /// Runs the workload; returns the model of what must be on flash, and
    /// records an issue for any read that returned a wrong value.
    static func run(on flash: RAMFlash, redundancy: Int) throws -> Model {
        var store = try makeStore(flash, redundancy: redundancy)
        var model = Model()
        _ = try? store.initialize()
        for step in workload {
            switch step {
            case .put(let key, let number):
                let old = model.allowed[key] ?? [nil]
                do {
                    try store.put(key, value(number))
                    model.allowed[key] = [value(number)]
                } catch {
                    model.allowed[key] = store.lastWriteState == .notWritten ? old : old.union([value(number)])
                    if store.lastWriteState == .committed { model.allowed[key] = [value(number)] }
                }
            case .delete(let key):
                let old = model.allowed[key] ?? [nil]
                do {
                    try store.delete(key)
                    model.allowed[key] = [nil]
                } catch {
                    model.allowed[key] = store.lastWriteState == .notWritten ? old : old.union([nil])
                    if store.lastWriteState == .committed { model.allowed[key] = [nil] }
                }
            case .get(let key):
                if let value = try? store.get(key) {
                    #expect(model.check(key, value), "get \(key) returned a value it never held")
                }
            case .reinit:
                store = try makeStore(flash, redundancy: redundancy)
                _ = try? store.initialize()
            case .partial: _ = try? store.partialMaintenance()
            case .full: _ = try? store.fullMaintenance()
            case .heavy: _ = try? store.heavyMaintenance()
            }
        }
        return model
    }

    /// How many calls of each kind the fault-free workload makes.
    static func callCounts(redundancy: Int) throws -> RAMFlash.Counters {
        let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
        _ = try run(on: flash, redundancy: redundancy)
        return flash.counters
    }

    struct Case: CustomTestStringConvertible {
        var redundancy: Int
        var operation: FlashFault.Operation
        var testDescription: String { "redundancy \(redundancy), \(operation) faults" }
    }

    static let cases = [1, 2].flatMap { redundancy in
        [FlashFault.Operation.read, .write, .erase].map { Case(redundancy: redundancy, operation: $0) }
    }

    @Test("after a fault at any call, every committed key survives with its latest value", arguments: cases)
    func faultAtEveryCall(_ testCase: Case) throws {
        let counts = try Self.callCounts(redundancy: testCase.redundancy)
        let calls = switch testCase.operation {
        case .read: counts.readCalls
        case .write: counts.writeCalls
        case .erase: counts.eraseCalls
        }
        #expect(calls > 0)
        for index in 0..<calls {
            let flash = RAMFlash(sectorSize: 512, sectorCount: 4)
            flash.inject(FlashFault(testCase.operation, error: .unavailable, times: 1, delay: index))
            let model = try Self.run(on: flash, redundancy: testCase.redundancy)
            flash.removeAllFaults()

            let store = try Self.makeStore(flash, redundancy: testCase.redundancy)
            let initError = (try? store.initialize()) == nil
            #expect(!initError || store.state == .needsMaintenance, "fault at \(testCase.operation) #\(index)")
            for (key, allowed) in model.allowed.sorted(by: { $0.key < $1.key }) {
                let result = status { () throws(KVSError) in try store.get(key) }
                let value = result.1 ?? (result.0 == .notFound ? nil : Array("<\(statusName(result.0))>".utf8))
                #expect(model.check(key, value), """
                    fault at \(testCase.operation) #\(index): \(key) = \(Self.describe(value)), \
                    allowed \(allowed.map(Self.describe).sorted()) (init \(statusName(status { () throws(KVSError) in try store.initialize() }.0)))
                    """)
            }
            for item in store.items {
                let key = String(decoding: item.key, as: UTF8.self)
                #expect(model.allowed[key] != nil, "key \(key) was never written")
            }
        }
    }
}
