import BenchmarkWorkloads

/// The command line of WORKLOADS.md section 8, with its defaults.
struct BenchConfiguration {
    var workload = Workload.update
    var operationCount = 100_000
    var keyCount = 100
    var valueSize = 32
    var seed: UInt64 = 1
    var repeatCount = 1
    var sectorSize = 4096
    var sectorCount = 4
    var alignment = 16
    var magic: UInt32 = 0xD253_A8A9
    var checksum = ChecksumChoice.crc16
    var redundancy = 1
    var maxEntries = 256

    enum ChecksumChoice: String {
        case crc16, none
    }

    static let usage = """
        usage: flashkvs-bench [--workload fill|update|read|mixed|init] [--ops N] [--keys K]
                              [--value-size V] [--seed S] [--repeat R]
                              [--sector-size BYTES] [--sectors N] [--alignment BYTES]
                              [--magic HEX] [--checksum crc16|none] [--redundancy 1..3]
                              [--max-entries N]
        Runs one workload of WORKLOADS.md on a RAM flash and prints one JSON object.
        Defaults: update, N=100000, K=100, V=32, S=1, R=1, 4 x 4096-byte sectors,
        alignment 16, magic 0xd253a8a9, crc16, redundancy 1, max-entries 256.
        Exit status: 0 when the run verifies, 1 when it does not, 2 for a bad command line.
        """

    /// A command-line error, printed with the usage; `--help` is one
    /// without a message.
    struct UsageError: Error {
        var message: String?
    }

    /// Parses `arguments` (without the program name); flags in any order,
    /// each followed by its value. Numbers are decimal or 0x-hex.
    init(arguments: [String]) throws(UsageError) {
        var index = 0
        func value(_ flag: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError(message: "\(flag) needs a value") }
            return arguments[index]
        }
        func integer(_ flag: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int {
            let text = try value(flag)
            guard let number = Self.parseUInt64(text), number <= UInt64(Int.max), range.contains(Int(number)) else {
                throw UsageError(message: "\(flag) \(text): expected an integer in \(range)")
            }
            return Int(number)
        }
        while index < arguments.count {
            let flag = arguments[index]
            switch flag {
            case "--help", "-h":
                throw UsageError(message: nil)
            case "--workload":
                let name = try value(flag)
                guard let workload = Workload(rawValue: name) else {
                    throw UsageError(message: "unknown workload \(name)")
                }
                self.workload = workload
            case "--ops": operationCount = try integer(flag, 0...Int(Int32.max))
            case "--keys": keyCount = try integer(flag, 1...BenchmarkKeys.maxKeyCount)
            case "--value-size": valueSize = try integer(flag, 0...65534)
            case "--seed":
                let text = try value(flag)
                guard let seed = Self.parseUInt64(text) else { throw UsageError(message: "bad seed \(text)") }
                self.seed = seed
            case "--repeat": repeatCount = try integer(flag, 1...1000)
            case "--sector-size": sectorSize = try integer(flag, 16...65534)
            case "--sectors": sectorCount = try integer(flag, 2...65535)
            case "--alignment": alignment = try integer(flag, 1...256)
            case "--magic":
                let text = try value(flag)
                let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? String(text.dropFirst(2)) : text
                guard let magic = UInt32(digits, radix: 16) else { throw UsageError(message: "bad magic \(text)") }
                self.magic = magic
            case "--checksum":
                let name = try value(flag)
                guard let checksum = ChecksumChoice(rawValue: name) else {
                    throw UsageError(message: "unknown checksum \(name)")
                }
                self.checksum = checksum
            case "--redundancy": redundancy = try integer(flag, 1...3)
            case "--max-entries": maxEntries = try integer(flag, 1...32767)
            default:
                throw UsageError(message: "unknown argument \(flag)")
            }
            index += 1
        }
        guard keyCount <= maxEntries else {
            throw UsageError(message: "--keys \(keyCount) exceeds --max-entries \(maxEntries)")
        }
    }

    /// A decimal or 0x-prefixed hexadecimal unsigned 64-bit number.
    static func parseUInt64(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }
}
