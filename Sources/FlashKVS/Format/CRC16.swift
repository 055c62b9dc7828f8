// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// CRC-16/CCITT-FALSE as pw_checksum computes it: polynomial 0x1021,
/// initial value 0xFFFF, no reflection, no final XOR. The check value of
/// "123456789" is 0x29B1.
public enum CRC16 {
    /// The CRC of no bytes; also the starting state for ``update(_:_:)``.
    public static let initial: UInt16 = 0xFFFF

    /// Continues `crc` over `bytes` (chain calls to checksum data in parts).
    /// O(n): eight bytes per step through 4 KiB of tables on a host; one
    /// nibble per step through a 32-byte table in Embedded builds, where
    /// flash space matters more (a 512-byte table would be twice as fast).
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    public static func update(_ crc: UInt16, _ bytes: Span<UInt8>) -> UInt16 {
        var crc = crc
        #if $Embedded
        for index in 0..<bytes.count {
            let byte = bytes[index]
            crc = nibbleTable[Int(UInt8(truncatingIfNeeded: crc >> 12) ^ (byte >> 4))] ^ (crc << 4)
            crc = nibbleTable[Int(UInt8(truncatingIfNeeded: crc >> 12) ^ (byte & 0x0F))] ^ (crc << 4)
        }
        #else
        tables.withUnsafeBufferPointer { tables in crc = run(crc, bytes, tables) }
        #endif
        return crc
    }

    #if !$Embedded
    /// The CRC of an entry held in RAM: `header` (its checksum field zero),
    /// `key`, `value`, then `padding` zero bytes, in one call that sets up
    /// the tables once (hosts only; devices chain ``update(_:_:)``).
    @inline(never)
    static func entry(_ header: Span<UInt8>, _ key: Span<UInt8>, _ value: Span<UInt8>, padding: Int) -> UInt16 {
        tables.withUnsafeBufferPointer { tables in
            zeros(run(run(run(initial, header, tables), key, tables), value, tables), count: padding, tables)
        }
    }

    /// `crc` continued over `bytes` with the tables: eight bytes per step,
    /// T7[high ^ b0] ^ T6[low ^ b1] ^ T5[b2] ^ ... ^ T0[b7], where Tk is the
    /// table of a byte followed by k zero bytes (``tables`` from k x 256);
    /// the rest byte by byte. Of the eight lookups only the first two wait
    /// for the previous step's CRC, so a step costs about one dependent
    /// load instead of eight (a byte-wise table CRC is latency-bound).
    @inline(__always)
    private static func run(
        _ crc: UInt16, _ bytes: Span<UInt8>, _ tables: UnsafeBufferPointer<UInt16>
    ) -> UInt16 {
        var crc = crc
        bytes.withUnsafeBytes { input in
            var index = 0
            let count = input.count
            while index &+ 8 <= count {
                @inline(__always) func byte(_ n: Int) -> Int { Int(input[index &+ n]) }
                let high = Int(UInt8(truncatingIfNeeded: crc >> 8)) ^ byte(0)
                let low = Int(UInt8(truncatingIfNeeded: crc)) ^ byte(1)
                crc = tables[1792 &+ high] ^ tables[1536 &+ low] ^ tables[1280 &+ byte(2)] ^ tables[1024 &+ byte(3)]
                    ^ tables[768 &+ byte(4)] ^ tables[512 &+ byte(5)] ^ tables[256 &+ byte(6)] ^ tables[byte(7)]
                index &+= 8
            }
            while index < count {
                crc = tables[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ input[index])] ^ (crc << 8)
                index &+= 1
            }
        }
        return crc
    }

    /// Continues `crc` over `count` zero bytes (an entry's padding), eight
    /// or four bytes per step with two table reads: the zero bytes' own
    /// terms vanish. Hosts only; devices feed zeros to ``update(_:_:)``.
    @inline(__always)
    private static func zeros(_ crc: UInt16, count: Int, _ tables: UnsafeBufferPointer<UInt16>) -> UInt16 {
        var crc = crc
        var remaining = count
        while remaining >= 8 {
            crc = tables[1792 &+ Int(crc >> 8)] ^ tables[1536 &+ Int(crc & 0xFF)]
            remaining &-= 8
        }
        if remaining >= 4 {
            crc = tables[768 &+ Int(crc >> 8)] ^ tables[512 &+ Int(crc & 0xFF)]
            remaining &-= 4
        }
        while remaining > 0 {
            crc = tables[Int(crc >> 8)] ^ (crc << 8)
            remaining &-= 1
        }
        return crc
    }
    #endif

    #if $Embedded
    static let nibbleTable: InlineArray<16, UInt16> = [
        0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
        0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
    ]
    #endif
}
