import ArgumentParser
import FlashKVS
import FlashKVSTools

/// An entry magic on the command line: `0x`-prefixed hex or decimal.
struct MagicArgument: ExpressibleByArgument {
    var value: UInt32

    init(_ value: UInt32) { self.value = value }

    init?(argument: String) {
        let lowered = argument.lowercased()
        if lowered.hasPrefix("0x") {
            guard let value = UInt32(lowered.dropFirst(2), radix: 16) else { return nil }
            self.value = value
        } else {
            guard let value = UInt32(argument) else { return nil }
            self.value = value
        }
    }

    var defaultValueDescription: String { "0x" + String(value, radix: 16) }
}

extension ChecksumKind: ExpressibleByArgument {}
extension StoreScript.Maintenance: ExpressibleByArgument {}
extension ProvisioningFile.Format: ExpressibleByArgument {}

/// The options of every command that opens an image: geometry and store
/// configuration.
struct ImageOptions: ParsableArguments {
    @Option(name: .customLong("sector-size"), help: ArgumentHelp("Bytes per erase sector.", valueName: "bytes"))
    var sectorSize: Int = 4096

    @Option(name: .customLong("sectors"), help: ArgumentHelp(
        "Number of sectors (default: the file size / the sector size; required to create an image).", valueName: "n"))
    var sectorCount: Int?

    @Option(help: ArgumentHelp(
        "Write alignment in bytes: 1, 2, 4, 8, 16 or a multiple of 16 up to 256.", valueName: "bytes"))
    var alignment: Int = 16

    @Option(help: ArgumentHelp(
        "Entry magic, hex with 0x or decimal. Repeat it to read entries of several formats (such as a device's "
            + "earlier magic): the first is written.", valueName: "hex"))
    var magic: [MagicArgument] = [MagicArgument(StoreConfiguration.defaultMagic)]

    @Option(help: ArgumentHelp(
        "Entry checksum: crc16 or none. Once for every --magic, or once per --magic in the same order.",
        valueName: "kind"))
    var checksum: [ChecksumKind] = [.crc16]

    @Option(help: ArgumentHelp("Copies of every entry, each in another sector.", valueName: "n"))
    var redundancy: Int = 1

    @Option(name: .customLong("max-entries"), help: ArgumentHelp(
        "Key capacity, deleted keys included (default: enough for any image of this size, at most 32767).",
        valueName: "n"))
    var maxEntries: Int?

    /// The configuration the options describe, checked against the
    /// store's limits.
    /// - Throws: `CLIError` `.badArgument` naming the option.
    func configuration() throws(CLIError) -> StoreConfiguration {
        guard checksum.count == 1 || checksum.count == magic.count else {
            throw CLIError(
                .badArgument,
                "--checksum is given \(checksum.count) times for \(magic.count) --magic values: "
                    + "give it once for all of them or once per --magic")
        }
        let formats = magic.indices.map {
            StoreConfiguration.Format(magic: magic[$0].value, checksum: checksum[checksum.count == 1 ? 0 : $0])
        }
        let configuration = StoreConfiguration(
            sectorSize: sectorSize, sectorCount: sectorCount, alignment: alignment, magic: formats[0].magic,
            checksum: formats[0].checksum, additionalFormats: Array(formats.dropFirst()), redundancy: redundancy,
            maxEntries: maxEntries)
        do {
            try configuration.validate()
        } catch {
            throw CLIError(.badArgument, error.description)
        }
        return configuration
    }
}
