/// What `flashkvs-sweep` runs (and, bounded, what `swift test` runs).
public enum SweepPlan {
    /// The geometries of issue 17's reports, swept with extra workload
    /// variants.
    public static let focusGeometries: [SweepGeometry] = [
        SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 2, checksum: .crc16),
        SweepGeometry(sectorSize: 256, sectorCount: 4, alignment: 8, redundancy: 1, checksum: .crc16),
        SweepGeometry(sectorSize: 512, sectorCount: 6, alignment: 16, redundancy: 1, checksum: .crc16),
        SweepGeometry(sectorSize: 4096, sectorCount: 4, alignment: 16, redundancy: 2, checksum: .crc16),
    ]

    /// Sectors above 64 KiB (issue 21): 128 KiB with redundancy 1, 256 KiB
    /// with redundancy 2 (short workloads, and inside an entry every 32nd
    /// program only: each scenario rewrites the whole partition after the cut).
    public static let largeSectorGeometries: [SweepGeometry] = [
        SweepGeometry(sectorSize: 128 * 1024, sectorCount: 4, alignment: 16, redundancy: 1, checksum: .crc16),
        SweepGeometry(sectorSize: 256 * 1024, sectorCount: 3, alignment: 16, redundancy: 2, checksum: .crc16),
    ]

    /// Power-cut workloads with their second-cut interval: the standard
    /// workloads of issue 4 (a second cut after every scenario), one
    /// generated workload per geometry of ``SweepGeometry/generated`` and
    /// ``largeSectorGeometries``, and
    /// `focusVariants` more variants of each focus geometry.
    public static func powerWorkloads(
        rotations: Int = 3, maxOperations: Int = 100, focusVariants: Int = 12
    ) -> [(workload: SweepWorkload, secondCutInterval: Int)] {
        var list: [(SweepWorkload, Int)] = SweepWorkload.standard.map { ($0, 1) }
        for geometry in SweepGeometry.generated {
            list.append((SweepWorkload.generated(for: geometry, rotations: rotations, maxOperations: maxOperations), 4))
        }
        for geometry in largeSectorGeometries {
            list.append((SweepWorkload.generated(for: geometry, rotations: 1, maxOperations: 12), 8))
        }
        for geometry in focusGeometries {
            for variant in 0..<focusVariants {
                list.append((SweepWorkload.generated(for: geometry, rotations: rotations + 1,
                                                     maxOperations: maxOperations * 3 / 2, tag: "v\(variant + 1)"), 8))
            }
        }
        return list
    }

    /// Read-fault workloads: one shorter generated workload per geometry.
    public static func readFaultWorkloads(rotations: Int = 3, maxOperations: Int = 70) -> [SweepWorkload] {
        SweepGeometry.generated.map {
            SweepWorkload.generated(for: $0, rotations: rotations, maxOperations: maxOperations, tag: "reads")
        }
    }

    /// Sector-damage workloads: the generated power-cut workloads with
    /// redundancy 2 or more.
    public static func damageWorkloads(rotations: Int = 3, maxOperations: Int = 100) -> [SweepWorkload] {
        SweepGeometry.generated.filter { $0.redundancy >= 2 }.map {
            SweepWorkload.generated(for: $0, rotations: rotations, maxOperations: maxOperations)
        }
    }

    /// Random fault runs: issue 17's geometries and a spread of others.
    public static let randomGeometries: [SweepGeometry] = focusGeometries + [
        SweepGeometry(sectorSize: 1024, sectorCount: 8, alignment: 64, redundancy: 3, checksum: .none),
        SweepGeometry(sectorSize: 2048, sectorCount: 5, alignment: 8, redundancy: 1, checksum: .none),
        SweepGeometry(sectorSize: 256, sectorCount: 7, alignment: 16, redundancy: 3, checksum: .crc16),
        SweepGeometry(sectorSize: 1024, sectorCount: 3, alignment: 64, redundancy: 1, checksum: .crc16),
    ]

    public static func randomRuns(seeds: Int = 4, operations: Int = 3000) -> [RandomFaultRun] {
        randomGeometries.flatMap { geometry in
            (1...UInt64(max(1, seeds))).map { RandomFaultRun(geometry, seed: $0, operations: operations) }
        }
    }
}
