import Foundation
import TestSupport

extension SHA256 {
    /// The digest of the file at `path`, to prove a file did not change.
    static func ofFile(_ path: String) throws -> String { hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) }
}
