// libFuzzer entry point: every input is a flash image (see ImageFuzzing).
// Built and run by Scripts/fuzz.sh, with AddressSanitizer.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    ImageFuzzing.exercise(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}

#if canImport(Glibc)
import Glibc
#endif

/// With FLASHKVS_FUZZ_SEEDS=DIR set, writes ImageFuzzing's seed inputs
/// (images written by the store) into DIR before fuzzing starts.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("FLASHKVS_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (index, seed) in ImageFuzzing.seedInputs().enumerated() {
        guard let file = fopen("\(directory)/seed-\(index)", "wb") else { continue }
        _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return 0
}
