// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "FlashKVS",
    products: [
        .library(name: "FlashKVS", targets: ["FlashKVS"]),
        .library(name: "FlashKVSTools", targets: ["FlashKVSTools"]),
        .executable(name: "flashkvs", targets: ["flashkvs"]),
        .executable(name: "flashkvs-bench", targets: ["flashkvs-bench"]),
        .executable(name: "flashkvs-sweep", targets: ["flashkvs-sweep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The core: no dependencies, no Foundation, Embedded-compatible.
        .target(name: "FlashKVS"),
        // Host library: file-backed flash images, inspection, import/export.
        .target(
            name: "FlashKVSTools",
            dependencies: ["FlashKVS", .product(name: "SystemPackage", package: "swift-system")]),
        // The command-line tool for flash images.
        .executableTarget(
            name: "flashkvs",
            dependencies: ["FlashKVSTools", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The benchmark workloads of shared/bench/WORKLOADS.md (op generator, digests).
        .target(name: "BenchmarkWorkloads", dependencies: ["FlashKVS"]),
        // The benchmark command.
        .executableTarget(name: "flashkvs-bench", dependencies: ["BenchmarkWorkloads", "FlashKVS"]),
        // Stress harnesses: power cuts at every flash operation, image fuzzing.
        .target(name: "FlashKVSStress", dependencies: ["FlashKVS"]),
        .executableTarget(name: "flashkvs-sweep", dependencies: ["FlashKVSStress", "FlashKVS"]),
        // Instantiates every public generic API; CI also builds it in Embedded mode.
        .target(name: "EmbeddedSmoke", dependencies: ["FlashKVS"]),
        // A short walk through the store's main job; `swift run flashkvs-demo`.
        .executableTarget(name: "flashkvs-demo", dependencies: ["FlashKVS"]),
        // Helpers shared by the test targets (SHA-256 of images).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "FlashKVSTests", dependencies: ["FlashKVS", "FlashKVSStress", "TestSupport"], exclude: ["FuzzCorpus"]),
        .testTarget(name: "FlashKVSToolsTests", dependencies: ["FlashKVSTools", "FlashKVS", "TestSupport"]),
        .testTarget(name: "BenchmarkWorkloadsTests", dependencies: ["BenchmarkWorkloads"]),
    ],
    swiftLanguageModes: [.v6]
)
