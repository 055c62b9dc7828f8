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
                ("problems", .array(problems.map { problem in
                    .object([
                        ("kind", .string(problem.kind.rawValue)),
                        ("sector", problem.sector.map { .int($0) } ?? .null),
                        ("offset", problem.offset.map { .int($0) } ?? .null),
                        ("message", .string(problem.message)),
                    ])
                })),
            ]).serialized() + "\n")
        } else if problems.isEmpty {
            Output.write("'\(image)' is clean: \(counted(inspection.liveKeyCount, "key")), "
                + "\(counted(inspection.sectorCount, "sector")), \(counted(inspection.inUseBytes, "byte")) in use, "
                + "\(inspection.reclaimableBytes) reclaimable\n")
        } else {
            Output.write("'\(image)': \(counted(problems.count, "problem"))\n")
            for problem in problems { Output.write("  \(problem.kind.rawValue): \(problem.message)\n") }
        }
        if !problems.isEmpty {
            throw CLIError(.problemsFound, "'\(image)' has \(counted(problems.count, "problem"))")
        }
    }
}
