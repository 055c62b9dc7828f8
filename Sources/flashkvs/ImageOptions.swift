import ArgumentParser
import FlashKVS
import FlashKVSTools

/// A non-negative number on the command line: decimal, or hex with `0x`
/// (magics, offsets, addresses).
struct NumberArgument: ExpressibleByArgument {
    var value: UInt64

    init(_ value: UInt64) { self.value = value }

    init?(argument: String) {
        let lowered = argument.lowercased()
        if lowered.hasPrefix("0x") {
            guard let value = UInt64(lowered.dropFirst(2), radix: 16) else { return nil }
            self.value = value
        } else {
            guard let value = UInt64(argument) else { return nil }
            self.value = value
        }
    }

    var defaultValueDescription: String { "0x" + String(value, radix: 16) }
}

/// An entry magic: a ``NumberArgument`` of 32 bits.
struct MagicArgument: ExpressibleByArgument {
    var value: UInt32

    init(_ value: UInt32) { self.value = value }

    init?(argument: String) {
        guard let number = NumberArgument(argument: argument), let value = UInt32(exactly: number.value) else { return nil }
        self.value = value
    }

    var defaultValueDescription: String { "0x" + String(value, radix: 16) }
}

extension ChecksumKind: ExpressibleByArgument {}
extension StoreScript.Maintenance: ExpressibleByArgument {}
extension ProvisioningFile.Format: ExpressibleByArgument {}

// Numbers are parsed `.unconditional`ly so that "--sectors -4" is an
// invalid value, not a missing one.

/// The flash geometry: what `create` needs.
struct GeometryOptions: ParsableArguments {
    @Option(name: .customLong("sector-size"), parsing: .unconditional,
            help: ArgumentHelp("Bytes per erase sector.", valueName: "bytes"))
    var sectorSize: Int = 4096

    @Option(name: .customLong("sectors"), parsing: .unconditional, help: ArgumentHelp(
        "Number of sectors (default: the file size / the sector size; required to create an image, or to open a "
            + "partition inside a larger file).",
        valueName: "n"))
    var sectorCount: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Write alignment in bytes: 1, 2, 4, 8, 16 or a multiple of 16 up to 256.", valueName: "bytes"))
    var alignment: Int = 16
}

/// The store's configuration besides the geometry.
struct FormatOptions: ParsableArguments {
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Entry magic, hex with 0x or decimal. Repeat it to read entries of several formats (such as a device's "
            + "earlier magic): the first is written.", valueName: "hex"))
    var magic: [MagicArgument] = [MagicArgument(StoreConfiguration.defaultMagic)]

    @Option(help: ArgumentHelp(
        "Entry checksum: crc16 or none. Once for every --magic, or once per --magic in the same order.",
        valueName: "kind"))
    var checksum: [ChecksumKind] = [.crc16]

    @Option(parsing: .unconditional, help: ArgumentHelp("Copies of every entry, each in another sector.", valueName: "n"))
    var redundancy: Int = 1

    @Option(name: .customLong("max-entries"), parsing: .unconditional, help: ArgumentHelp(
        "Key capacity, deleted keys included (default: enough for any image of this size, at most 32767).",
        valueName: "n"))
    var maxEntries: Int?

    /// The configuration of these options and `geometry`, checked against
    /// the store's limits.
    /// - Throws: `CLIError` `.badArgument` naming the option.
    func configuration(_ geometry: GeometryOptions) throws(CLIError) -> StoreConfiguration {
        guard checksum.count == 1 || checksum.count == magic.count else {
            throw CLIError(
                .badArgument,
                "--checksum is given \(counted(checksum.count, "time")) for \(magic.count) --magic values: "
                    + "give it once for all of them or once per --magic")
        }
        let formats = magic.indices.map {
            StoreConfiguration.Format(magic: magic[$0].value, checksum: checksum[checksum.count == 1 ? 0 : $0])
        }
        let configuration = StoreConfiguration(
            sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount, alignment: geometry.alignment,
            magic: formats[0].magic, checksum: formats[0].checksum, additionalFormats: Array(formats.dropFirst()),
            redundancy: redundancy, maxEntries: maxEntries)
        do {
            try configuration.validate()
        } catch {
            throw CLIError(.badArgument, error.description)
        }
        return configuration
    }
}

/// The options of every command that opens an image: geometry, store
/// configuration, and where the partition is in the file.
struct ImageOptions: ParsableArguments {
    @OptionGroup var geometry: GeometryOptions
    @OptionGroup var format: FormatOptions

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Where the partition starts in the file, for a whole-chip dump (decimal or 0x hex); its size is "
            + "--sectors x --sector-size, and the file may go on after it.", valueName: "bytes"))
    var offset: NumberArgument?

    /// The offset in the file, nil for a whole-file image.
    var fileOffset: Int? { offset.map { Int(clamping: $0.value) } }

    /// The configuration the options describe, checked against the
    /// store's limits.
    /// - Throws: `CLIError` `.badArgument` naming the option.
    func configuration() throws(CLIError) -> StoreConfiguration {
        if offset != nil && geometry.sectorCount == nil {
            throw CLIError(.badArgument, "--offset needs --sectors N: the partition's size is --sectors x --sector-size")
        }
        return try format.configuration(geometry)
    }
}

/// `--partial` of the read-only commands that answer from the store.
struct PartialOption: ParsableArguments {
    @Flag(help: ArgumentHelp(
        "Show what can be read even when the image holds data this command cannot show (another format, hidden "
            + "data, keys beyond --max-entries, corrupt entries); warns instead of failing with status 10 or 11."))
    var partial = false
}
