import ArgumentParser
import FlashKVS
import FlashKVSTools

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check an image's integrity without changing it (fsck).",
        discussion: """
            Reports corrupt entries and where they are, keys missing redundant copies, the lack \
            of an erased reserve sector, data hidden after a sector's free space, entries of \
            another alignment, and a format mismatch (sectors hold data but nothing parses \
            with the given --magic/--checksum). It also checks that the store, opened over the \
            same bytes, agrees with the inspection. Exit status 0 when clean, 1 when problems \
            were found. The file is opened read-only, with a read-only partition and manual \
            recovery: nothing is ever written.

            Atomic batches (Docs/BATCHES.md) are checked too: each batch whose intent record is \
            on flash is listed (committed, rolled back, or torn) with its members' digest. A torn \
            batch (its intent is the newest record of the reserved key: a power cut came before \
            the commit record) is no problem: it is reported as a note naming the keys that a \
            store with batches enabled rolls back at init ('flashkvs repair', or any flashkvs \
            write, does it now); pw_kvs reads it partly applied.
            """)

    @Argument(help: "The image file.") var image: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let (flash, configuration) = try ImageAccess.openFlash(image, options)
        let inspection = try ImageAccess.inspect(flash, configuration, path: image)
        let session = try ImageAccess.makeSession(flash, configuration, writable: false, path: image)
        var problems = inspection.problems + inspection.disagreements(with: session)
        do {
            _ = try session.store.contents()
        } catch {
            if let errno = flash.lastIOError {
                throw CLIError(.ioError, "reading '\(image)': \(errno.description)")
            }
            problems.append(ImageProblem(.inconsistent, "reading every key through the store failed: \(error.name)"))
        }
        if json {
            Output.write(JSON.object([
                ("clean", .bool(problems.isEmpty)),
                ("keys", .int(inspection.liveKeyCount)),
                ("batches", Reports.batchesJSON(inspection)),
                ("torn_batch", inspection.tornBatch.map { .string($0.rollbackDescription) } ?? .null),
                ("problems", .array(problems.map { problem in
                    .object([
                        ("kind", .string(problem.kind.rawValue)),
                        ("sector", problem.sector.map { .int($0) } ?? .null),
                        ("offset", problem.offset.map { .int($0) } ?? .null),
                        ("message", .string(problem.message)),
                    ])
                })),
            ]).serialized() + "\n")
        } else {
            if problems.isEmpty {
                Output.write("'\(image)' is clean: \(counted(inspection.liveKeyCount, "key")), "
                    + "\(counted(inspection.sectorCount, "sector")), \(counted(inspection.inUseBytes, "byte")) in use, "
                    + "\(inspection.reclaimableBytes) reclaimable\n")
            } else {
                Output.write("'\(image)': \(counted(problems.count, "problem"))\n")
                for problem in problems { Output.write("  \(problem.kind.rawValue): \(problem.message)\n") }
            }
            Output.write(Self.batchReport(inspection))
        }
        if !problems.isEmpty {
            throw CLIError(.problemsFound, "'\(image)' has \(counted(problems.count, "problem"))")
        }
    }

    /// The batches on flash, in a few lines: how many committed (and
    /// whether their digests match), then the torn one, if any, as a note.
    /// Empty for an image without batch records.
    static func batchReport(_ inspection: ImageInspection) -> String {
        let batches = inspection.batches
        guard !batches.isEmpty else { return "" }
        var counts: [String] = []
        for state in InspectedBatch.State.allCases {
            let count = batches.count { $0.state == state }
            if count > 0 { counts.append("\(count) \(state.rawValue.replacingOccurrences(of: "_", with: " "))") }
        }
        var lines = ["  batches: \(counted(batches.count, "intent record")) on flash: " + counts.joined(separator: ", ")
            + (batches.contains { $0.state == .committed } ? " (committed batches are fine)" : "")]
        for batch in batches where batch.digestMatches == false {
            lines.append("  note: batch_digest: \(batch.summary)")
        }
        if let torn = inspection.tornBatch { lines.append("  note: torn_batch: \(torn.rollbackDescription)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
