// A descriptor's flash addresses, over the address slots of KeyTable.swift
// (slot = descriptor x redundancy + copy; copies fill slots in order).
//
// Code size (Docs/EMBEDDED.md, "Code size"; measured with
// Scripts/embedded-footprint.sh): on devices, small helpers that several
// callers share are kept out of line (`@inline(never)`, under `#if $Embedded`
// where hosts inline them for speed).

extension KeyTable {
    /// Number of flash copies recorded for `descriptor`.
    #if $Embedded
    @inline(never)
    #endif
    func addressCount(_ descriptor: Int) -> Int {
        var count = 0
        while addressOfCopy(count, of: descriptor) != nil { count &+= 1 }
        return count
    }

    /// The address of copy `copy` of `descriptor`; nil from its first
    /// missing copy on (copies fill slots in order) and for no such copy.
    #if $Embedded
    @inline(never)
    #endif
    func addressOfCopy(_ copy: Int, of descriptor: Int) -> Int? {
        check(descriptor)
        guard UInt(bitPattern: copy) < UInt(bitPattern: redundancy) else { return nil }
        return address(inSlot: descriptor &* redundancy &+ copy)
    }

    /// - Precondition: `copy < addressCount(descriptor)`.
    #if $Embedded
    @inline(never)
    #endif
    func address(_ descriptor: Int, copy: Int) -> Int {
        guard let address = addressOfCopy(copy, of: descriptor) else { preconditionFailure("no such copy") }
        return address
    }

    /// The first address slot at or after `slot` (slot = descriptor x
    /// redundancy + copy) whose address lies in `range`, in descriptor
    /// order: a tight scan of the address array.
    func nextSlot(withAddressIn range: Range<Int>, from slot: Int) -> Int? {
        let end = count &* redundancy
        guard slot >= 0 else { return nil }
        if let narrowAddresses {
            // Ranges are sectors, whose bounds are multiples of 16 here.
            let low = UInt16(truncatingIfNeeded: range.lowerBound >> 4)
            let width = UInt16(truncatingIfNeeded: min(range.count >> 4, 0xFFFF))
            for index in slot..<max(slot, end) where narrowAddresses[index] &- low < width { return index }
            return nil
        }
        let wide = wideAddresses.unsafelyUnwrapped
        let low = UInt32(truncatingIfNeeded: range.lowerBound)
        let width = UInt32(truncatingIfNeeded: range.count)
        for index in slot..<max(slot, end) where wide[index] &- low < width { return index }
        return nil
    }

    /// Records another copy of `descriptor`'s current version.
    /// - Precondition: fewer than `redundancy` copies recorded.
    @inline(never)
    func addAddress(_ descriptor: Int, _ address: Int) {
        let copy = addressCount(descriptor)
        precondition(copy < redundancy)
        setAddress(address, inSlot: descriptor &* redundancy &+ copy)
    }

    /// Replaces copy `copy` of `descriptor` with `address`.
    #if $Embedded
    @inline(never)
    #endif
    func replaceAddress(_ descriptor: Int, copy: Int, with address: Int) {
        check(descriptor)
        precondition(UInt(bitPattern: copy) < UInt(bitPattern: redundancy))
        setAddress(address, inSlot: descriptor &* redundancy &+ copy)
    }

    /// Forgets copy `copy` of `descriptor`; the last copy takes its slot.
    @inline(never)
    func removeAddress(_ descriptor: Int, copy: Int) {
        let base = descriptor &* redundancy
        let last = addressCount(descriptor) &- 1
        precondition(copy >= 0 && copy <= last)
        setAddress(address(inSlot: base &+ last), inSlot: base &+ copy)
        setAddress(nil, inSlot: base &+ last)
    }
}
