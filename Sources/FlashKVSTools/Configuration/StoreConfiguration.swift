import FlashKVS

/// A configuration the store or the geometry cannot work with; the
/// message names the option to change.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How to read a flash image as a key-value store: the geometry and the
/// pw_kvs configuration (entry formats, redundancy, key capacity).
///
/// The defaults are the command-line tool's: 4096-byte sectors, alignment
/// 16, magic 0xd253a8a9, CRC16, redundancy 1.
public struct StoreConfiguration: Equatable, Sendable {
    /// An entry format as the command line names it: a magic and one of
    /// the checksums pw_kvs ships.
    public struct Format: Equatable, Sendable {
        public var magic: UInt32
        public var checksum: ChecksumKind

        public init(magic: UInt32, checksum: ChecksumKind) {
            self.magic = magic
            self.checksum = checksum
        }

        /// The core's entry format.
        public var entryFormat: EntryFormat { EntryFormat(magic: magic, checksum: checksum.checksum) }

        /// `--magic 0x... --checksum ...`, as the options spell it.
        public var options: String { "--magic \(hex32(magic)) --checksum \(checksum.rawValue)" }
    }

    /// The default entry magic.
    public static let defaultMagic: UInt32 = 0xd253_a8a9
    /// The largest key capacity the core supports.
    public static let maximumCapacity = 32767

    public var sectorSize: Int
    /// Sectors in the image; nil means "as many as the file holds".
    public var sectorCount: Int?
    /// Write alignment of the flash and the partition.
    public var alignment: Int
    /// The magic of the format new entries are written in.
    public var magic: UInt32
    /// The checksum of the format new entries are written in.
    public var checksum: ChecksumKind
    /// Formats read besides the primary one (``magic`` and ``checksum``),
    /// such as a device's earlier magic. Their entries are read as they are;
    /// full and heavy maintenance rewrite them in the primary format.
    public var additionalFormats: [Format]
    public var redundancy: Int
    /// Key capacity (deleted keys included); nil means ``defaultCapacity(sectorCount:)``.
    public var maxEntries: Int?

    public init(
        sectorSize: Int = 4096, sectorCount: Int? = nil, alignment: Int = 16, magic: UInt32 = defaultMagic,
        checksum: ChecksumKind = .crc16, additionalFormats: [Format] = [], redundancy: Int = 1,
        maxEntries: Int? = nil
    ) {
        self.sectorSize = sectorSize
        self.sectorCount = sectorCount
        self.alignment = alignment
        self.magic = magic
        self.checksum = checksum
        self.additionalFormats = additionalFormats
        self.redundancy = redundancy
        self.maxEntries = maxEntries
    }

    /// The format new entries are written in.
    public var primaryFormat: Format { Format(magic: magic, checksum: checksum) }

    /// Every format read, the primary one first.
    public var allFormats: [Format] { [primaryFormat] + additionalFormats }

    /// The core's entry format new entries are written in.
    public var format: EntryFormat { primaryFormat.entryFormat }

    /// The core's entry formats, as the store is opened with them.
    public var formats: [EntryFormat] { allFormats.map(\.entryFormat) }

    /// The format whose magic is `magic`, if one is configured.
    public func format(magic: UInt32) -> Format? { allFormats.first { $0.magic == magic } }

    /// The format options for messages: `--magic 0x... --checksum ...`,
    /// once per format.
    public var formatOptions: String { allFormats.map(\.options).joined(separator: " ") }

    /// The alignment-units header field of entries written with this
    /// configuration.
    public var alignmentUnits: UInt8 { EntryHeader.alignmentUnits(forPartitionAlignment: alignment) }

    /// A capacity no image of `sectorCount` sectors can exceed: every key
    /// has at least one entry of at least 32 bytes on flash. Capped at
    /// ``maximumCapacity``.
    public func defaultCapacity(sectorCount: Int) -> Int {
        let smallestEntry = 32
        return min(Self.maximumCapacity, max(1, sectorCount * sectorSize / smallestEntry))
    }

    /// The key capacity for an image of `sectorCount` sectors.
    public func capacity(sectorCount: Int) -> Int { maxEntries ?? defaultCapacity(sectorCount: sectorCount) }

    /// Checks the values against the limits of the pw_kvs format and of
    /// the store, so that a store can be opened with them.
    /// - Throws: ``ConfigurationError`` naming the option and the limit.
    public func validate() throws(ConfigurationError) {
        guard (1...256).contains(alignment), 16 % alignment == 0 || alignment % 16 == 0 else {
            throw ConfigurationError(
                "--alignment \(alignment) is not supported: it must divide 16 (1, 2, 4, 8, 16) or be a multiple of 16 up to 256")
        }
        guard sectorSize >= 32, sectorSize <= 1 << 30 else {
            throw ConfigurationError("--sector-size \(sectorSize) is out of range: the tool supports 32 bytes to 1 GiB")
        }
        guard sectorSize % alignment == 0 else {
            throw ConfigurationError("--sector-size \(sectorSize) is not a multiple of --alignment \(alignment)")
        }
        if let sectorCount {
            guard (2...65535).contains(sectorCount) else {
                throw ConfigurationError(
                    "--sectors \(sectorCount) is out of range: the store needs 2...65535 sectors (one stays erased for garbage collection)")
            }
            guard redundancy < sectorCount else {
                throw ConfigurationError(
                    "--redundancy \(redundancy) needs at least \(redundancy + 1) sectors (one copy per sector plus an erased one)")
            }
        }
        guard (1...255).contains(redundancy) else {
            throw ConfigurationError("--redundancy \(redundancy) is out of range: 1...255")
        }
        if let maxEntries {
            guard (1...Self.maximumCapacity).contains(maxEntries) else {
                throw ConfigurationError("--max-entries \(maxEntries) is out of range: 1...\(Self.maximumCapacity)")
            }
        }
        var magics: [UInt32] = []
        for format in allFormats {
            guard format.magic != 0xFFFF_FFFF else {
                throw ConfigurationError("--magic 0xffffffff cannot be used: it reads as erased flash")
            }
            guard !magics.contains(format.magic) else {
                throw ConfigurationError("--magic \(hex32(format.magic)) is given twice: each format needs its own magic")
            }
            magics.append(format.magic)
        }
    }
}
