/// The smallest multiple of `alignment` that is at least `value`.
#if $Embedded  // one copy on devices; inlined on hosts for speed
@inline(never)
#else
@inline(__always)
#endif
func alignUp(_ value: Int, _ alignment: Int) -> Int {
    (value &+ alignment &- 1) / alignment &* alignment
}

/// The largest multiple of `alignment` that is at most `value`.
@inline(__always)
func alignDown(_ value: Int, _ alignment: Int) -> Int {
    value / alignment * alignment
}
