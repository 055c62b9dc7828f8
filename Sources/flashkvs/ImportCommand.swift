import ArgumentParser
import FlashKVS
import FlashKVSTools

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bulk-load keys from a JSON or CSV file (factory provisioning), all or nothing.",
        discussion: """
            JSON: one object {"KEY": VALUE, ...}; VALUE is a string (stored as UTF-8) or \
            {"hex": "..."}. This is what export writes. Or an array of records \
            {"key": "...", "value": "..."}, with "key_hex" and "value_hex" for bytes (what list \
            --json prints is one).
            CSV: records key,type,value (an optional first record key,type,value is a header; \
            RFC 4180 quoting). Types: text, hex, base64, u8 u16 u32 u64 i8 i16 i32 i64 (decimal or \
            0x hex, stored little-endian), file (the contents of that file, relative to the CSV \
            file's folder).
            The format comes from --format, else the extension (.json, .csv), else the first \
            character. The whole file is checked (keys 1 to 63 bytes, no key twice, values that \
            fit a sector) before anything is written; keys are put in file order, on a copy of \
            the image that replaces it only when every key is stored (no room for the last key \
            leaves the image unchanged). The image is created with the given geometry if it \
            does not exist (--sectors is then required).
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
            throw CLIError(.badInput, error.located(in: file))
        } catch let error as FileAccessError {
            throw CLIError(.ioError, "\(file): \(error)")
        } catch {
            throw CLIError(.internalError, "\(error)")
        }
        for item in provisioning.items {
            try Arguments.checkFits(
                key: item.key, value: item.value, sectorSize: options.geometry.sectorSize, status: .badInput,
                location: fileLocation(file, line: item.line))
        }
        let edit = try ImageAccess.edit(image, options, createIfMissing: true)
        for item in provisioning.items {
            do {
                try edit.store.put(item.key.span, item.value.span)
            } catch {
                var failure = CLIError.store(
                    error, fileLocation(file, line: item.line) + "put \(displayKey(item.key))", image: image,
                    flash: edit.flash)
                if failure.status == .badArgument { failure.status = .badInput }
                failure.message += edit.update.createsImage ? "; nothing was imported ('\(image)' was not created)"
                    : "; nothing was imported ('\(image)' is unchanged)"
                throw failure
            }
        }
        try edit.finish()
        Output.write("imported \(counted(provisioning.items.count, "key")) into '\(image)' "
            + "(\(counted(edit.store.count, "key")) stored)\n")
    }

    static func format(of path: String, _ bytes: [UInt8]) -> ProvisioningFile.Format {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".json") { return .json }
        if lowered.hasSuffix(".csv") { return .csv }
        return ProvisioningFile.detectFormat(bytes)
    }
}
