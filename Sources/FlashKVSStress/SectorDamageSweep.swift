import FlashKVS

/// With redundancy 2 or more every key has a copy in another sector, so
/// the loss of any one sector must be survived (issue 17, finding 5): for
/// each written sector of a workload's final image, overwrite it with
/// damage (random bytes; random bytes whose first 16 bytes parse as a
/// plausible header, as about 1 random sector in 70 does; all zeros, as an
/// erase cut after its pre-programming leaves), then check that a new
/// store's `initialize()` succeeds (random damage is not another format's
/// data), every key reads its value, the store agrees with a fresh init,
/// and 10 puts succeed.
public struct SectorDamageSweep {
    public enum Damage: CaseIterable, Sendable, CustomStringConvertible {
        case randomBytes, randomWithPlausibleHeader, zeros
        public var description: String {
            switch self {
            case .randomBytes: "random bytes"
            case .randomWithPlausibleHeader: "random bytes, plausible first header"
            case .zeros: "all zeros"
            }
        }
    }

    public struct Result: Sendable {
        public var workload: String
        public var scenarios = 0
        public var checks = 0
        public var records: [SweepViolation] = []
        public var violations: [String] { records.map(\.description) }
        public init(workload: String) { self.workload = workload }
    }

    public let workload: SweepWorkload
    /// Random fills per sector and damage kind.
    public var seeds = 2

    public init(_ workload: SweepWorkload) { self.workload = workload }

    /// `sectorSize` random bytes from `seed`; with `plausibleHeader`, the
    /// first seed from `seed` on whose first 16 bytes parse as a header
    /// with key length 1...63 and an entry inside the sector.
    public static func randomSector(_ sectorSize: Int, seed: UInt64, plausibleHeader: Bool) -> [UInt8] {
        var seed = seed
        while true {
            var random = StressRandom(seed: seed)
            let bytes = (0..<sectorSize).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let keyLength = Int(bytes[9]), valueSize = Int(bytes[10]) | Int(bytes[11]) << 8
            if !plausibleHeader || ((1...63).contains(keyLength) && 16 + keyLength + valueSize <= sectorSize) {
                return bytes
            }
            seed &+= 1
        }
    }

    public func run() -> Result {
        var result = Result(workload: workload.name)
        guard workload.redundancy >= 2, workload.refusalByAPI() == nil else { return result }
        let pristine = workload.makeFlash()
        var swept = workload
        if let failure = workload.dryRunFailure(on: pristine) {
            swept = workload.prefix(failure.index)  // reported by the power-cut sweep
            let again = workload.makeFlash()
            _ = swept.dryRunFailure(on: again)
            pristine.load(again.contents.span)
        }
        var model: [String: [UInt8]] = [:]
        for operation in swept.operations {
            if case .put(let key, let value) = operation { model[key] = value }
            if case .delete(let key) = operation { model[key] = nil }
        }
        let keys = swept.keys
        let size = swept.sectorSize
        for sector in 0..<swept.sectorCount
        where !(sector * size..<(sector + 1) * size).allSatisfy({ pristine[$0] == pristine.erasedByte }) {
            for damage in Damage.allCases {
                for seed in 0..<(damage == .zeros ? 1 : seeds) {
                    result.scenarios += 1
                    let scenario = "sector \(sector) overwritten with \(damage)" + (damage == .zeros ? "" : ", seed \(seed + 1)")
                    func violation(_ kind: String, _ detail: String = "") {
                        result.records.append(SweepViolation(kind: kind, workload: swept.name, scenario: scenario, detail: detail))
                    }
                    let flash = swept.copy(of: pristine)
                    let bytes = damage == .zeros ? [UInt8](repeating: 0, count: size)
                        : Self.randomSector(size, seed: UInt64(sector * 1000 + seed + 1), plausibleHeader: damage == .randomWithPlausibleHeader)
                    flash.load(bytes.span, at: sector * size)
                    guard let store = swept.makeStore(flash) else { continue }
                    result.checks += 1
                    do throws(KVSError) { try store.initialize() } catch {
                        violation("initialize() with one damaged sector (redundancy \(swept.redundancy)) threw \(error.name)",
                                  "state \(store.state), scan: \(PowerLossSweep.describe(store.lastScan))")
                        continue
                    }
                    var lost = false
                    for key in keys {
                        result.checks += 1
                        let read = try? store.get(key)
                        if read != model[key] {
                            violation("a key lost with one damaged sector (redundancy \(swept.redundancy))",
                                      "\(key): read \(ValueText.describe(read)), expected \(ValueText.describe(model[key]))")
                            lost = true
                        }
                    }
                    if lost { continue }
                    result.checks += 1
                    var freshError: KVSError? = nil
                    let differences = StoreAgreement.differences(
                        store, image: swept.copy(of: flash), extraKeys: keys, open: { swept.makeStore($0) },
                        freshInitError: &freshError)
                    if !differences.isEmpty {
                        violation("store disagrees with a fresh init after repairing a damaged sector",
                                  differences.prefix(3).joined(separator: "; "))
                    }
                    let present = model.keys.sorted()
                    let writes: [(String, [UInt8])] = (0..<10).map { round in
                        let key = present.isEmpty ? "probe1" : present[round % present.count]
                        return (key, SweepWorkload.randomValue(800_000 + round, length: max(1, model[key]?.count ?? 16)))
                    }
                    for (round, (key, value)) in writes.enumerated() {
                        result.checks += 1
                        do throws(KVSError) { try store.put(key, value) } catch {
                            // Writes that an undamaged store fails too: the load, not the damage.
                            if PowerLossSweep.controlFails(swept, model, writes) == nil {
                                violation("put after repairing a damaged sector threw \(error.name)",
                                          "write \(round), state \(store.state)")
                            }
                            break
                        }
                    }
                }
            }
        }
        return result
    }
}
