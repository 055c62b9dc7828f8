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

            --atomic runs every put and delete of the script as ONE atomic batch of the store \
            (Docs/BATCHES.md): the image gets the batch's intent record, its members and its \
            commit record, as a device writes them. A key given twice: the last line wins; a \
            delete of a key that is absent writes nothing. At most 16 put/delete lines, whose \
            entries must fit one sector; maintain and reinit lines are refused. A failing line \
            leaves the image unchanged.
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The script file.") var script: String
    @Flag(help: "Run the script's puts and deletes as one atomic batch (no maintain or reinit lines).")
    var atomic = false
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
        if atomic { try checkBatchable(parsed) }
        let edit = try ImageAccess.edit(image, options, createIfMissing: true)
        let operations = atomic ? try applyAtomically(parsed, edit) : try applyInOrder(parsed, edit)
        try edit.finish()
        let store = edit.store
        Output.write("ops=\(operations) failures=0 size=\(store.count) transaction_count=\(store.transactionCount) "
            + "sectors_erased=\(edit.flash.counters.sectorsErased)\n")
    }

    /// What a failure leaves: nothing.
    private func nothingApplied(_ edit: ImageAccess.Edit) -> String {
        edit.update.createsImage ? "; nothing was applied ('\(image)' was not created)"
            : "; nothing was applied ('\(image)' is unchanged)"
    }

    /// Refuses, before anything runs, a script that cannot be one batch:
    /// a maintain or reinit line, more operations than a batch holds.
    private func checkBatchable(_ parsed: StoreScript) throws(CLIError) {
        if let line = parsed.firstLineOutsideBatches {
            let what = if case .maintain(let kind) = line.operation { "maintain \(kind.rawValue)" } else { "reinit" }
            throw CLIError(.badInput, fileLocation(script, line: line.number) + "\(what) cannot be part of an atomic "
                + "batch (--atomic takes put, puthex, delete and their -key-hex forms only); nothing was applied")
        }
        if parsed.lines.count > BatchRecord.maxOperations {
            let line = parsed.lines[BatchRecord.maxOperations]
            throw CLIError(.badInput, fileLocation(script, line: line.number) + "an atomic batch holds at most "
                + "\(BatchRecord.maxOperations) operations (repeated keys included) and the script has "
                + "\(parsed.lines.count); split it into several batches; nothing was applied")
        }
    }

    /// Runs the whole script as one batch.
    private func applyAtomically(_ parsed: StoreScript, _ edit: ImageAccess.Edit) throws(CLIError) -> Int {
        do {
            return try parsed.applyAtomically(to: edit.session)
        } catch {
            let location = error.line.map { fileLocation(script, line: $0.number) } ?? "\(script): "
            var failure: CLIError
            switch (error.error, error.line) {
            case (.outOfRange, nil):
                let sector = edit.flash.sectorSize
                if let (line, bytes) = parsed.lineOverflowingSector(in: edit.session) {
                    let what = ScriptFailure(line: line.number, operation: line.operation, error: .outOfRange)
                        .operationDescription
                    failure = CLIError(.badInput, fileLocation(script, line: line.number) + what + ": with this line "
                        + "the batch's entries (one copy each, header and padding included) take \(bytes) bytes, more "
                        + "than one sector (\(sector) bytes), the most a batch may write")
                } else {
                    failure = CLIError(.badInput, location + "the batch is too large: its entries (one copy each, "
                        + "header and padding included) must fit one sector of \(sector) bytes")
                }
            case (.outOfRange, _?):
                failure = CLIError(.badInput, location + error.operationDescription + ": an atomic batch holds at "
                    + "most \(BatchRecord.maxOperations) operations")
            case (.alreadyExists, nil):
                failure = CLIError(.badInput, location + "two keys of the batch have the same pw_kvs hash and "
                    + "different lengths; they cannot coexist")
            case (.resourceExhausted, nil):
                failure = CLIError.store(.resourceExhausted, location + "the batch", image: image, flash: edit.flash)
                failure.message += " (a batch also needs room for its intent and commit records and for its "
                    + "worst-case rollback, see Docs/BATCHES.md)"
            default:
                failure = CLIError.store(error.error, location + error.operationDescription, image: image,
                                         flash: edit.flash)
                if error.error == .invalidArgument, let line = error.line, case .put(let key, _) = line.operation,
                   BatchRecord.isReserved(key.span) {
                    failure.message = location + error.operationDescription + ": the key 0x006b7662 is reserved "
                        + "for the records of atomic batches"
                }
            }
            if failure.status == .badArgument { failure.status = .badInput }
            failure.message += nothingApplied(edit)
            throw failure
        }
    }

    /// Runs the lines one after the other.
    private func applyInOrder(_ parsed: StoreScript, _ edit: ImageAccess.Edit) throws(CLIError) -> Int {
        do {
            return try parsed.apply(to: edit.session)
        } catch {
            var failure = CLIError.store(
                error.error, fileLocation(script, line: error.line) + error.operationDescription, image: image,
                flash: edit.flash)
            if failure.status == .badArgument { failure.status = .badInput }
            failure.message += nothingApplied(edit)
            throw failure
        }
    }
}
