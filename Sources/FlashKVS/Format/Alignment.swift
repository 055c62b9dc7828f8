// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed), and helpers with one caller in the
// minimal image are inlined (`@inline(__always)`). `@_specialize` under
// `#if !$Embedded` exports the RAMFlash specialization for hosts; Embedded
// builds specialize everything anyway.

/// The smallest multiple of `alignment` that is at least `value`.
#if $Embedded
@inline(never)
#else
@inline(__always)
#endif
func alignUp(_ value: Int, _ alignment: Int) -> Int {
    let mask = alignment &- 1
    if alignment & mask == 0 { return (value &+ mask) & ~mask }  // a power of two: no division
    return (value &+ mask) / alignment &* alignment
}

/// The largest multiple of `alignment` that is at most `value`.
@inline(__always)
func alignDown(_ value: Int, _ alignment: Int) -> Int {
    value / alignment * alignment
}
