import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Apply a script of store operations in one process, all or nothing.",
        discussion: """
            Script lines (the format of the reference's compatibility images, plus key-hex forms):
              put KEY TEXT...                value = the rest of the line after the key and one space (may be empty)
              puthex KEY HEX                 value = the hex bytes
              delete KEY
              put-key-hex KEYHEX TEXT...     the same, the key given as hex (any bytes)
              puthex-key-hex KEYHEX HEX
              delete-key-hex KEYHEX
              maintain partial|full|heavy
              reinit                         reopen the store (a new store object over the same flash)
              # comment
            The whole script is checked before anything runs. The operations run on a copy of \
            the image, which replaces it only when every line succeeded: the first failing \
            operation stops the run, names its line, and leaves the image unchanged. Prints the \
            reference tool's summary line: ops=N failures=0 size=N transaction_count=N \
            sectors_erased=N. The image is created with the given geometry if it does not exist \
            (--sectors is then required).
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The script file.") var script: String
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let parsed: StoreScript
        do {
            parsed = try StoreScript.parse(try Arguments.readFile(script))
        } catch let error as TextFormatError {
            throw CLIError(.badInput, error.located(in: script))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(.internalError, "\(error)")
        }
        for line in parsed.lines {
            if case .put(let key, let value) = line.operation {
                try Arguments.checkFits(
                    key: key, value: value, sectorSize: options.geometry.sectorSize, status: .badInput,
                    location: fileLocation(script, line: line.number))
            }
        }
        let edit = try ImageAccess.edit(image, options, createIfMissing: true)
        let operations: Int
        do {
            operations = try parsed.apply(to: edit.session)
        } catch {
            var failure = CLIError.store(
                error.error, fileLocation(script, line: error.line) + error.operationDescription, image: image,
                flash: edit.flash)
            if failure.status == .badArgument { failure.status = .badInput }
            failure.message += edit.update.createsImage ? "; nothing was applied ('\(image)' was not created)"
                : "; nothing was applied ('\(image)' is unchanged)"
            throw failure
        }
        try edit.finish()
        let store = edit.store
        Output.write("ops=\(operations) failures=0 size=\(store.count) transaction_count=\(store.transactionCount) "
            + "sectors_erased=\(edit.flash.counters.sectorsErased)\n")
    }
}
