// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// The pw_kvs key hash: the sum of `key[i] * 65599^(i+1)` modulo 2^32,
/// with key bytes taken as unsigned (the behaviour of pw_kvs on ARM; on
/// x86 hosts the reference sign-extends bytes >= 0x80).
///
/// The hash is never stored on flash; it identifies keys in RAM, and two
/// different keys with the same hash cannot both be stored. O(key length).
public enum KeyHash {
    #if $Embedded
    @inline(never)
    #else
    @inline(__always)
    #endif
    public static func of(_ key: Span<UInt8>) -> UInt32 {
        var hash: UInt32 = 0
        var coefficient: UInt32 = 65599
        for index in 0..<key.count {
            hash &+= coefficient &* UInt32(key[index])
            coefficient &*= 65599
        }
        return hash
    }
}
