import Foundation

/// One reference image of `../shared/compat` and its description.
struct CompatCase: CustomTestStringConvertible, Sendable {
    var name: String

    var testDescription: String { name }

    static let names = ["basic_r1_crc16_a16", "r2_crc16_a16", "tombstones_r1_crc16_a16"]
    static let all = names.map { CompatCase(name: $0) }

    var imagePath: String { PackagePaths.compat.appendingPathComponent("\(name).img").path }
    var scriptPath: String { PackagePaths.compat.appendingPathComponent("\(name).script").path }

    /// The parsed `NAME.json`.
    func description() throws -> [String: Any] {
        let data = try Data(contentsOf: PackagePaths.compat.appendingPathComponent("\(name).json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The command-line flags the reference used (`--sector-size 4096 ...`).
    func flags() throws -> [String] { try #require(try description()["flags"] as? [String]) }
}

import Testing
