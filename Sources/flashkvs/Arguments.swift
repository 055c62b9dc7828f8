import FlashKVS
import FlashKVSTools

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks shared by several commands.
enum Arguments {
    /// The command line's own failures, before the parser sees it: an
    /// argument that is not valid UTF-8 (the parser would silently turn
    /// its bytes into U+FFFD), and an unknown subcommand (the parser would
    /// call it "unexpected arguments").
    static func checkCommandLine(subcommands: [String]) -> CLIError? {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            if String(validatingCString: raw) == nil {
                let bytes = Array(UnsafeRawBufferPointer(start: raw, count: strlen(raw)))
                return CLIError(.badArgument, "argument \(index) (0x\(Hex.encode(bytes))) is not valid UTF-8; give a "
                    + "key that is not text with --key-hex HEX, a value with --hex HEX or --file PATH")
            }
        }
        if let first = CommandLine.arguments.dropFirst().first, !first.hasPrefix("-"), first != "help",
           !subcommands.contains(first) {
            return CLIError(.badArgument, "unknown subcommand '\(first)'; the commands are "
                + subcommands.joined(separator: ", ") + " (see 'flashkvs --help')")
        }
        return nil
    }

    /// The key of `KEY` or `--key-hex HEX` (exactly one).
    /// - Throws: `.badArgument` for none or both, bad hex, or a length
    ///   outside 1...63 bytes.
    static func key(_ key: String?, hex: String?) throws(CLIError) -> [UInt8] {
        let bytes: [UInt8]
        switch (key, hex) {
        case (let key?, nil): bytes = Array(key.utf8)
        case (nil, let hex?):
            do { bytes = try Hex.decode(hex) } catch { throw CLIError(.badArgument, "--key-hex: \(error)") }
        case (nil, nil): throw CLIError(.badArgument, "give a key: KEY, or --key-hex HEX for a key that is not text")
        case (_?, _?): throw CLIError(.badArgument, "give the key once: KEY or --key-hex HEX, not both")
        }
        guard !bytes.isEmpty, bytes.count <= EntryHeader.maxKeyLength else {
            throw CLIError(.badArgument, "key \(displayKey(bytes)) is \(counted(bytes.count, "byte")); keys are 1 to "
                + "\(EntryHeader.maxKeyLength) bytes")
        }
        return bytes
    }

    /// Checks that an entry of `key` and `value` fits one sector, naming
    /// the limit.
    /// - Throws: `status` (`.badArgument` on the command line, `.badInput` in a file).
    static func checkFits(
        key: [UInt8], value: [UInt8], sectorSize: Int, status: ToolExitStatus, location: String = ""
    ) throws(CLIError) {
        let limit = sectorSize - EntryHeader.size
        guard key.count + value.count > limit else { return }
        throw CLIError(status, "\(location)key \(displayKey(key)) and its value are \(key.count + value.count) bytes; "
            + "key + value must fit one sector: at most \(limit) bytes with --sector-size \(sectorSize) (16 bytes "
            + "of the sector go to the entry header)")
    }

    /// The contents of an input file.
    /// - Throws: `.ioError`.
    static func readFile(_ path: String) throws(CLIError) -> [UInt8] {
        do { return try FileAccess.read(path) } catch { throw CLIError(.ioError, error.description) }
    }

    /// Writes an output file.
    static func writeFile(_ bytes: [UInt8], to path: String) throws(CLIError) {
        do { try FileAccess.write(bytes, to: path) } catch { throw CLIError(.ioError, error.description) }
    }
}
