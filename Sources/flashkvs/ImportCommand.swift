import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bulk-load keys from a JSON or CSV file (factory provisioning).",
        discussion: """
            JSON: one object {"KEY": VALUE, ...}; VALUE is a string (stored as UTF-8) or \
            {"hex": "..."}. This is what export writes.
            CSV: records key,type,value (an optional first record key,type,value is a header; \
            RFC 4180 quoting). Types: text, hex, base64, u8 u16 u32 u64 i8 i16 i32 i64 (decimal or \
            0x hex, stored little-endian), file (the contents of that file, relative to the CSV \
            file's folder).
            The format comes from --format, else the extension (.json, .csv), else the first \
            character. The whole file is checked (keys 1 to 63 bytes, no key twice, values that \
            fit a sector) before anything is written; keys are put in file order. The image is \
            created with the given geometry if it does not exist (--sectors is then required).
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "The JSON or CSV file.") var file: String
    @Option(help: "The file format: json or csv (default: from the extension or content).")
    var format: ProvisioningFile.Format?
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let bytes = try Arguments.readFile(file)
        let format = format ?? Self.format(of: file, bytes)
        let provisioning: ProvisioningFile
        do {
            provisioning = try ProvisioningFile.parse(bytes, format: format) { path in
                try FileAccess.read(FileAccess.resolve(path, relativeToFileAt: file))
            }
        } catch let error as TextFormatError {
            throw CLIError(.badInput, "\(file): \(error)")
        } catch let error as FileAccessError {
            throw CLIError(.ioError, "\(file): \(error)")
        } catch {
            throw CLIError(.internalError, "\(error)")
        }
        let configuration = try options.configuration()
        let entryAlignment = (configuration.alignment + 15) / 16 * 16
        for item in provisioning.items {
            let size = (EntryHeader.size + item.key.count + item.value.count + entryAlignment - 1)
                / entryAlignment * entryAlignment
            guard size <= configuration.sectorSize else {
                throw CLIError(.badInput, "\(file): \(format == .csv ? "line" : "member") \(item.line): key "
                    + "\(displayKey(item.key)) with a \(item.value.count)-byte value needs a \(size)-byte entry, "
                    + "larger than a \(configuration.sectorSize)-byte sector")
            }
        }
        let session = try ImageAccess.openForWriting(image, options, createIfMissing: true)
        defer { try? session.flash.flush() }
        for item in provisioning.items {
            do {
                try session.store.put(item.key.span, item.value.span)
            } catch {
                var failure = CLIError.store(
                    error, "\(file) \(format == .csv ? "line" : "member") \(item.line): put \(displayKey(item.key))",
                    image: image, flash: session.flash)
                if failure.status == .badArgument { failure.status = .badInput }
                throw failure
            }
        }
        try ImageAccess.close(session)
        Output.write("imported \(provisioning.items.count) keys into '\(image)' (\(session.store.count) keys stored)\n")
    }

    static func format(of path: String, _ bytes: [UInt8]) -> ProvisioningFile.Format {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".json") { return .json }
        if lowered.hasSuffix(".csv") { return .csv }
        return ProvisioningFile.detectFormat(bytes)
    }
}
