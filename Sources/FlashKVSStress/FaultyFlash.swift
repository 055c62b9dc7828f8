import FlashKVS

/// A ``FlashMemory`` in front of a ``RAMFlash`` that counts the store's
/// calls and makes chosen ones fail: the flash of the read-fault sweep
/// and of the random fault workload.
///
/// Unlike RAMFlash's own injected faults (which still fill the buffer with
/// the right bytes), a failed read here SCRAMBLES the destination: every
/// byte differs from what flash holds, as a transfer that never happened
/// would leave it. A store that uses bytes it never read is caught.
///
/// A failed write or erase leaves the medium in one of several states
/// (nothing done, all done, part done), chosen by the random stream.
///
/// It can also record every program and erase that reaches the medium
/// (kind, address, length), which the power-cut sweep uses to name cut
/// points and to interrupt erases in states RAMFlash does not model.
public final class FaultyFlash: FlashMemory {
    /// The flash behind the wrapper (raw bytes, power cuts, counters).
    public let base: RAMFlash

    public var sectorSize: Int { base.sectorSize }
    public var sectorCount: Int { base.sectorCount }
    public var alignment: Int { base.alignment }
    public var erasedByte: UInt8 { base.erasedByte }

    /// Calls made through the wrapper (failed ones included).
    public private(set) var readCalls = 0
    public private(set) var writeCalls = 0
    public private(set) var eraseCalls = 0

    /// Read calls (by their index in ``readCalls`` order, from 0) that fail.
    public var failingReads: Range<Int> = 0..<0
    /// The error a failing read in ``failingReads`` reports.
    public var readError: KVSError = .deadlineExceeded

    /// A custom read fault: called with each read call's index, address
    /// and length; the error it returns fails that read.
    public var readFault: ((_ call: Int, _ address: Int, _ count: Int) -> KVSError?)?

    /// Random faults: every read, write and erase fails once in `oneIn`.
    public struct RandomFaults: Sendable {
        public var oneIn: Int
        public var random: StressRandom
        public init(oneIn: Int, seed: UInt64) {
            self.oneIn = oneIn
            self.random = StressRandom(seed: seed)
        }
    }
    public var randomFaults: RandomFaults?
    /// When false no fault fires (the model checks read with it off).
    public var faultsEnabled = true

    /// One fault that fired.
    public struct FaultEvent: Sendable, CustomStringConvertible {
        public var description: String
    }
    /// The faults that fired since the last ``clearEvents()``.
    public private(set) var events: [FaultEvent] = []
    public func clearEvents() { events.removeAll() }

    /// A program or erase that reached the medium.
    public struct MediumOperation: Sendable {
        public var isErase: Bool
        public var address: Int
        public var length: Int
    }
    /// When true, ``mediumOperations`` records every program and erase.
    public var recordsMediumOperations = false
    public private(set) var mediumOperations: [MediumOperation] = []

    private var scrambler = StressRandom(seed: 0x5C7A_3B1E)

    public init(_ base: RAMFlash) { self.base = base }

    /// A wrapper over a new erased RAMFlash.
    public convenience init(sectorSize: Int, sectorCount: Int, alignment: Int) {
        self.init(RAMFlash(sectorSize: sectorSize, sectorCount: sectorCount, alignment: alignment))
    }

    /// Fails the `count` read calls starting at call `index` (counted from
    /// the wrapper's creation; ``readCalls`` is the next call's index).
    public func failReads(from index: Int, count: Int = 1, error: KVSError = .deadlineExceeded) {
        failingReads = index..<(index + count)
        readError = error
    }

    private func randomFault(_ errors: [KVSError]) -> KVSError? {
        guard faultsEnabled, var faults = randomFaults else { return nil }
        defer { randomFaults = faults }
        guard faults.random.oneIn(faults.oneIn) else { return nil }
        return errors[faults.random.below(errors.count)]
    }

    private func randomChoice(_ count: Int) -> Int {
        guard var faults = randomFaults else { return 0 }
        defer { randomFaults = faults }
        return faults.random.below(count)
    }

    public func read(at address: Int, into buffer: inout MutableSpan<UInt8>) throws(KVSError) {
        let index = readCalls
        readCalls += 1
        var failure: KVSError? = nil
        if faultsEnabled && failingReads.contains(index) { failure = readError }
        if failure == nil && faultsEnabled, let readFault { failure = readFault(index, address, buffer.count) }
        if failure == nil { failure = randomFault([.deadlineExceeded, .unknown, .dataLoss]) }
        guard let failure, address >= 0, address + buffer.count <= base.size else {
            try base.read(at: address, into: &buffer)
            return
        }
        // Every byte wrong: XOR with a non-zero random byte.
        for offset in 0..<buffer.count {
            let noise = UInt8(truncatingIfNeeded: scrambler.next() % 255) &+ 1
            buffer[offset] = base[address + offset] ^ noise
        }
        events.append(FaultEvent(description: "read call \(index) [\(address)+\(buffer.count)] failed (\(failure.name)), buffer scrambled"))
        throw failure
    }

    public func write(at address: Int, _ bytes: Span<UInt8>) throws(KVSError) {
        let index = writeCalls
        writeCalls += 1
        let before = base.mediumOperations
        if let failure = randomFault([.deadlineExceeded, .unknown]) {
            let states: [Interruption] = [.notApplied, .applied, .programPrefix, .programPartialBits]
            let state = states[randomChoice(states.count)]
            base.schedulePowerCut(atOperation: 0, interruption: state)
            var flashError: KVSError? = nil
            do { try base.write(at: address, bytes) } catch { flashError = error }
            base.restorePower()
            record(isErase: false, address: address, length: bytes.count, before: before)
            let reported = flashError == .unavailable || flashError == nil ? failure : flashError!
            events.append(FaultEvent(description: "write call \(index) [\(address)+\(bytes.count)] failed (\(reported.name)), medium: \(state)"))
            throw reported
        }
        defer { record(isErase: false, address: address, length: bytes.count, before: before) }
        try base.write(at: address, bytes)
    }

    public func erase(at address: Int, sectorCount count: Int) throws(KVSError) {
        let index = eraseCalls
        eraseCalls += 1
        let before = base.mediumOperations
        if let failure = randomFault([.deadlineExceeded, .unknown]) {
            let states: [Interruption] = [.notApplied, .applied, .erasePartial]
            let state = states[randomChoice(states.count)]
            base.schedulePowerCut(atOperation: 0, interruption: state)
            var flashError: KVSError? = nil
            do { try base.erase(at: address, sectorCount: count) } catch { flashError = error }
            base.restorePower()
            record(isErase: true, address: address, length: count * sectorSize, before: before)
            let reported = flashError == .unavailable || flashError == nil ? failure : flashError!
            events.append(FaultEvent(description: "erase call \(index) [sector \(address / sectorSize)] failed (\(reported.name)), medium: \(state)"))
            throw reported
        }
        defer { record(isErase: true, address: address, length: count * sectorSize, before: before) }
        try base.erase(at: address, sectorCount: count)
    }

    private func record(isErase: Bool, address: Int, length: Int, before: Int) {
        guard recordsMediumOperations, base.mediumOperations > before else { return }
        mediumOperations.append(MediumOperation(isErase: isErase, address: address, length: length))
    }
}
