import Foundation
import Testing

/// Issue 18's shape of the core, checked on its sources: files stay small,
/// and the store's files are layers (Docs/ARCHITECTURE.md): no file calls
/// into another that calls back into it, directly or around a loop.
@Suite("Architecture of the core")
struct ArchitectureTests {
    static let core = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/FlashKVS")

    /// The Swift files under `directory`, by name, without comments.
    static func sources(in directory: URL) throws -> [String: String] {
        var sources: [String: String] = [:]
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            sources[file.lastPathComponent] = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { line in line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line) }
                .joined(separator: "\n")
        }
        return sources
    }

    @Test("no core file is over 300 lines")
    func filesAreSmall() throws {
        let enumerator = FileManager.default.enumerator(at: Self.core, includingPropertiesForKeys: nil)
        var checked = 0
        while let file = enumerator?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count - 1 <= 300, "\(file.lastPathComponent): \(lines.count - 1) lines")
            checked += 1
        }
        #expect(checked > 30)
    }

    @Test("no call cycle between the store's files")
    func storeFilesAreLayers() throws {
        let files = try Self.sources(in: Self.core.appendingPathComponent("Store"))
            .filter { $0.key.hasPrefix("KeyValueStore") }
        #expect(files.count > 15)
        // Functions each file defines; names that several types use for
        // unrelated things (a builder's `write`, accessors' `get`) are left out.
        let common: Set<String> = ["get", "put", "delete", "init", "key", "count", "find", "reset", "remove", "append",
                                   "check", "read", "write"]
        let definition = try Regex(#"func\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(<]"#)
        var owners: [String: Set<String>] = [:]
        for (file, text) in files {
            for match in text.matches(of: definition) {
                guard let name = match.output[1].substring.map(String.init), !common.contains(name) else { continue }
                owners[name, default: []].insert(file)
            }
        }
        var calls: [String: Set<String>] = [:]
        for (file, text) in files {
            for (name, definedIn) in owners where !definedIn.contains(file) {
                let call = try Regex("(^|[^A-Za-z0-9_])" + name + #"\s*\("#)
                if text.contains(call) { calls[file, default: []].formUnion(definedIn) }
            }
        }
        // Depth-first search for a back edge.
        var state: [String: Bool] = [:]  // false: on the path, true: done
        var path: [String] = []
        var cycle: [String]? = nil
        func visit(_ file: String) {
            state[file] = false
            path.append(file)
            for next in (calls[file] ?? []).sorted() where cycle == nil {
                if state[next] == false {
                    cycle = Array(path[path.firstIndex(of: next)!...]) + [next]
                } else if state[next] == nil {
                    visit(next)
                }
            }
            path.removeLast()
            state[file] = true
        }
        for file in files.keys.sorted() where state[file] == nil && cycle == nil { visit(file) }
        #expect(cycle == nil, "call cycle: \(cycle?.joined(separator: " -> ") ?? "")")
    }
}
