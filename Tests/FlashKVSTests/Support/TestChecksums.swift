import FlashKVS

/// The checksum algorithms the reference's tests and vectors use (spec 1.5).
enum TestChecksums {
    /// `sum32`: UInt32 sum of all bytes.
    static let sum32 = Checksum.custom(byteCount: 4) { state, bytes, count in
        var state = state
        for index in 0..<count { state &+= UInt32(bytes![index]) }
        return state
    }

    /// `alt32`: state = (state << 8) | ((state >> 24) ^ byte).
    static let alt32 = Checksum.custom(byteCount: 4) { state, bytes, count in
        var state = state
        for index in 0..<count { state = (state << 8) | ((state >> 24) ^ UInt32(bytes![index])) }
        return state
    }

    /// `sum_plus1`: UInt32 sum of (byte + 1).
    static let sumPlus1 = Checksum.custom(byteCount: 4) { state, bytes, count in
        var state = state
        for index in 0..<count { state &+= UInt32(bytes![index]) &+ 1 }
        return state
    }

    /// The checksum a vector names.
    static func named(_ name: String) -> Checksum {
        switch name {
        case "crc16": .crc16
        case "sum32": sum32
        case "alt32": alt32
        case "sum_plus1": sumPlus1
        default: .none
        }
    }

    /// The formats of a vector's `formats` array.
    static func formats(_ list: [[String: Any]]) -> [EntryFormat] {
        list.map {
            EntryFormat(magic: UInt32(parseInteger($0["magic"] as! String)), checksum: named($0["checksum"] as! String))
        }
    }
}
