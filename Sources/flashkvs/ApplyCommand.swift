import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Apply a script of store operations in one process.",
        discussion: """
            Script lines (the format of the reference's compatibility images):
              put KEY TEXT...     value = the rest of the line after the key and one space (may be empty)
              puthex KEY HEX      value = the hex bytes
              delete KEY
              maintain partial|full|heavy
              reinit              reopen the store (a new store object over the same flash)
              # comment
            The whole script is checked before anything runs; the first failing operation stops \
            the run (earlier ones stay applied). Prints the reference tool's summary line: \
            ops=N failures=0 size=N transaction_count=N sectors_erased=N. The image is created \
            with the given geometry if it does not exist (--sectors is then required).
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The script file.") var script: String
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let parsed: StoreScript
        do {
            parsed = try StoreScript.parse(try Arguments.readFile(script))
        } catch let error as TextFormatError {
            throw CLIError(.badInput, "\(script): \(error)")
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(.internalError, "\(error)")
        }
        let session = try ImageAccess.openForWriting(image, options, createIfMissing: true)
        defer { try? session.flash.flush() }
        let operations: Int
        do {
            operations = try parsed.apply(to: session)
        } catch {
            var failure = CLIError.store(
                error.error, "\(script) line \(error.line): \(error.operationDescription)", image: image,
                flash: session.flash)
            if failure.status == .badArgument { failure.status = .badInput }
            throw failure
        }
        try ImageAccess.close(session)
        let store = session.store
        Output.write("ops=\(operations) failures=0 size=\(store.count) transaction_count=\(store.transactionCount) "
            + "sectors_erased=\(session.flash.counters.sectorsErased)\n")
    }
}
