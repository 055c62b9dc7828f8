import Foundation
import FlashKVS

/// Replays a `trace` vector (spec 6.1) on RAMFlash and a KeyValueStore and
/// lists every difference from what the reference recorded: statuses,
/// results, state after each step, and the final flash bytes.
struct TraceReplayer {
    let name: String
    let trace: [String: Any]
    let flash: RAMFlash
    let store: KeyValueStore<RAMFlash>
    let sectorSize: Int
    private(set) var differences: [String] = []
    /// Index of the first step with a difference (steps count from 0; the
    /// final state and image count as one past the last step).
    private(set) var firstDifferingStep: Int?
    private var currentStep = 0

    init(trace: [String: Any]) throws {
        self.trace = trace
        name = trace["name"] as! String
        let config = trace["config"] as! [String: Any]
        sectorSize = config["sector_size"] as! Int
        let sectorCount = config["sector_count"] as! Int
        flash = RAMFlash(sectorSize: sectorSize, sectorCount: sectorCount, alignment: config["flash_alignment"] as! Int)
        flash.load([UInt8](hex: trace["image_hex"] as? String ?? "").span)
        store = try Self.makeStore(config: config, flash: flash)
    }

    /// A store configured as the trace's `config` says.
    static func makeStore(config: [String: Any], flash: RAMFlash) throws -> KeyValueStore<RAMFlash> {
        let options = config["options"] as! [String: Any]
        let gc: Options.GarbageCollection = switch options["gc_on_write"] as! String {
        case "kDisabled": .disabled
        case "kOneSector": .oneSector
        default: .asManySectorsAsNeeded
        }
        let recovery: Options.Recovery = switch options["recovery"] as! String {
        case "kManual": .manual
        case "kImmediate": .immediate
        default: .lazy
        }
        let partition = try FlashPartition(flash, alignment: config["partition_alignment_arg"] as? Int ?? 0)
        return try KeyValueStore(
            partition: partition, formats: TestChecksums.formats(config["formats"] as! [[String: Any]]),
            capacity: config["max_entries"] as! Int, maxSectors: config["sector_count"] as? Int,
            redundancy: config["redundancy"] as! Int,
            options: Options(garbageCollectionOnWrite: gc, recovery: recovery,
                             verifyOnRead: options["verify_on_read"] as? Bool ?? true,
                             verifyOnWrite: options["verify_on_write"] as? Bool ?? true))
    }

    mutating func run() {
        let steps = trace["steps"] as! [[String: Any]]
        for (index, step) in steps.enumerated() {
            currentStep = index
            perform(step, label: "step \(index) \(step["op"] as! String)")
        }
        currentStep = steps.count
        if let final = trace["final"] as? [String: Any] { compareState(final, label: "final") }
        if let sectors = trace["final_image_sectors"] as? [String] {
            let bytes = flash.contents
            for (sector, hex) in sectors.enumerated() {
                var expected = [UInt8](hex: hex)
                expected += [UInt8](repeating: 0xFF, count: sectorSize - expected.count)
                let actual = Array(bytes[(sector * sectorSize)..<((sector + 1) * sectorSize)])
                if actual != expected {
                    let offset = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                    record("final image: sector \(sector) differs first at offset \(offset)")
                }
            }
        }
        if let counts = trace["partition_erase_counts"] as? [Int], counts != flash.eraseCounts {
            record("partition erase counts \(flash.eraseCounts), reference \(counts)")
        }
    }

    private mutating func expectEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String) {
        if actual != expected { record("\(what): \(actual), reference \(expected)") }
    }

    private mutating func record(_ difference: String) {
        differences.append(difference)
        if firstDifferingStep == nil { firstDifferingStep = currentStep }
    }

    private mutating func perform(_ step: [String: Any], label: String) {
        let op = step["op"] as! String
        let key = keyBytes(step["key"].map { "\($0)" } ?? "")
        let expectedStatus = step["status"] as? String ?? "OK"
        var error: KVSError?
        switch op {
        case "init":
            error = status { () throws(KVSError) in try store.initialize() }.0
        case "put" where step["repeat"] != nil:
            // trace_wear_repeated_large_entry: 160 puts of a 470-byte value,
            // from the buffer {1, 2, 3, 4, 5, 6, 0...} with byte 0 = (1 + n) & 0xff.
            for n in 1...(step["repeat"] as! Int) {
                var value = [UInt8](repeating: 0, count: 470)
                value[0] = UInt8((1 + n) & 0xFF)
                for index in 1...5 { value[index] = UInt8(index + 1) }
                if let failure = status({ () throws(KVSError) in try store.put(key.span, value.span) }).0 {
                    record("\(label) #\(n): \(failure.name)")
                }
            }
            compareState(step, label: label)
            return
        case "put":
            let value = [UInt8](hex: step["value_hex"] as! String)
            error = status { () throws(KVSError) in try store.put(key.span, value.span) }.0
        case "delete":
            error = status { () throws(KVSError) in try store.delete(key.span) }.0
        case "get":
            var buffer = [UInt8](repeating: 0, count: step["buffer_size"] as! Int)
            var span = buffer.mutableSpan
            let offset = step["offset"] as! Int
            let result = status { () throws(KVSError) in try store.get(key.span, into: &span, offset: offset) }
            error = result.0
            let size = result.1 ?? (error == .resourceExhausted ? buffer.count : 0)
            expectEqual(size, step["result_size"] as! Int, "\(label) result size")
            expectEqual(Array(buffer[0..<size]).hex, step["value_hex"] as! String, "\(label) value")
        case "value_size":
            let result = status { () throws(KVSError) in try store.valueSize(key.span) }
            error = result.0
            expectEqual(result.1 ?? 0, step["result_size"] as! Int, "\(label) result size")
        case "full_maintenance":
            error = status { () throws(KVSError) in try store.fullMaintenance() }.0
        case "heavy_maintenance":
            error = status { () throws(KVSError) in try store.heavyMaintenance() }.0
        case "partial_maintenance":
            error = status { () throws(KVSError) in try store.partialMaintenance() }.0
        case "inject_write_error_unconditional", "inject_read_error_unconditional", "inject_read_error_in_range":
            let times = step["times"] as! UInt64
            let fault = FlashFault(
                op.hasPrefix("inject_write") ? .write : .read, error: KVSError(statusName: step["status"] as! String)!,
                range: op.hasSuffix("in_range") ? (step["address"] as! Int, step["length"] as! Int) : nil,
                times: times == UInt64.max ? nil : Int(times), delay: step["delay"] as! Int)
            flash.inject(fault)
            return
        case "raw_partition_erase_sector":
            do {
                var partition = try FlashPartition(flash)
                try partition.erase(at: step["address"] as! Int)
            } catch {
                record("\(label): raw erase failed")
            }
            return
        case "raw_set_byte":
            flash[step["address"] as! Int] = UInt8(step["value"] as! Int)
            return
        default:
            record("\(label): unknown operation")
            return
        }
        expectEqual(statusName(error), expectedStatus, "\(label) status")
        compareState(step, label: label)
    }

    private mutating func compareState(_ expected: [String: Any], label: String) {
        guard expected["kvs_size"] != nil else { return }
        expectEqual(store.count, expected["kvs_size"] as! Int, "\(label) size")
        expectEqual(store.totalEntriesWithDeleted, expected["total_entries_with_deleted"] as! Int, "\(label) total entries")
        expectEqual(Int(store.transactionCount), expected["transaction_count"] as! Int, "\(label) transaction count")
        expectEqual(store.isInitialized, expected["initialized"] as! Bool, "\(label) initialized")
        expectEqual(store.errorDetected, expected["error_detected"] as! Bool, "\(label) error detected")
        let stats = store.storageStats
        let wanted = expected["stats"] as! [String: Int]
        expectEqual(stats.writableBytes, wanted["writable_bytes"]!, "\(label) writable bytes")
        expectEqual(stats.inUseBytes, wanted["in_use_bytes"]!, "\(label) in-use bytes")
        expectEqual(stats.reclaimableBytes, wanted["reclaimable_bytes"]!, "\(label) reclaimable bytes")
        expectEqual(stats.sectorEraseCount, wanted["sector_erase_count"]!, "\(label) sector erase count")
        expectEqual(stats.corruptSectorsRecovered, wanted["corrupt_sectors_recovered"]!, "\(label) corrupt sectors recovered")
        expectEqual(stats.missingRedundantEntriesRecovered, wanted["missing_redundant_entries_recovered"]!,
                    "\(label) missing redundant entries recovered")
        expectEqual(iteration(), (expected["iteration"] as! [[String: Any]]).map { "\($0["key"]!)=\($0["status"]!):\($0["value_hex"]!)" },
                    "\(label) iteration")
    }

    /// Every present key as "key=STATUS:value", the reference recorder's form.
    private func iteration() -> [String] {
        store.items.map { item in
            let key = item.key
            var buffer = [UInt8](repeating: 0, count: sectorSize)
            var span = buffer.mutableSpan
            let result = status { () throws(KVSError) in try store.get(item, into: &span) }
            let value = result.1.map { Array(buffer[0..<$0]).hex } ?? ""
            return "\(keyString(key))=\(statusName(result.0)):\(value)"
        }
    }
}
