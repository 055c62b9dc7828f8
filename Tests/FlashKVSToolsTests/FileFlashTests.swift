import FlashKVS
import FlashKVSTools
import Foundation
import Testing

@Suite("FileFlash: NOR rules on an image file")
struct FileFlashTests {
    let directory: TemporaryDirectory
    let geometry = FlashGeometry(sectorSize: 256, sectorCount: 4, alignment: 16)

    init() throws { directory = try TemporaryDirectory() }

    func makeFlash() throws -> FileFlash {
        try FileFlash.create(at: directory.path("flash.img"), geometry: geometry)
    }

    func fileBytes() throws -> [UInt8] { [UInt8](try directory.read("flash.img")) }

    @Test func createWritesAnErasedFileOfTheGeometrysSize() throws {
        let flash = try makeFlash()
        #expect(flash.sectorCount == 4 && flash.sectorSize == 256 && flash.alignment == 16)
        let bytes = try fileBytes()
        #expect(bytes.count == 1024)
        #expect(bytes.allSatisfy { $0 == 0xFF })
    }

    @Test func createRefusesAnExistingFileUnlessOverwriting() throws {
        _ = try makeFlash()
        try directory.write("flash.img", Data([1, 2, 3]))
        #expect(throws: FileFlashError.alreadyExists(path: directory.path("flash.img"))) {
            _ = try FileFlash.create(at: directory.path("flash.img"), geometry: geometry)
        }
        #expect(try fileBytes() == [1, 2, 3])
        _ = try FileFlash.create(at: directory.path("flash.img"), geometry: geometry, overwrite: true)
        #expect(try fileBytes().count == 1024)
    }

    @Test func writeThenReadGoesThroughTheFile() throws {
        let flash = try makeFlash()
        let data = [UInt8](0..<32)
        try flash.write(at: 256 + 16, data.span)
        var buffer = [UInt8](repeating: 0, count: 32)
        var span = buffer.mutableSpan
        try flash.read(at: 256 + 16, into: &span)
        #expect(buffer == data)
        try flash.flush()
        #expect(Array(try fileBytes()[272..<304]) == data)
        #expect(flash.counters.bytesWritten == 32 && flash.counters.writeCalls == 1)
    }

    @Test func writingOverBytesThatAreNotErasedFailsAndWritesNothing() throws {
        let flash = try makeFlash()
        try flash.write(at: 32, [UInt8](repeating: 0xA5, count: 16).span)
        let before = try fileBytes()
        // 16 erased bytes followed by 16 written ones: the whole write is refused.
        #expect(throws: KVSError.unknown) { try flash.write(at: 16, [UInt8](repeating: 0, count: 32).span) }
        #expect(try fileBytes() == before)
        #expect(before[16..<32].allSatisfy { $0 == 0xFF })
    }

    @Test func misalignedWritesAreInvalidArguments() throws {
        let flash = try makeFlash()
        #expect(throws: KVSError.invalidArgument) { try flash.write(at: 8, [UInt8](repeating: 0, count: 16).span) }
        #expect(throws: KVSError.invalidArgument) { try flash.write(at: 16, [UInt8](repeating: 0, count: 12).span) }
        #expect(throws: KVSError.invalidArgument) { try flash.erase(at: 100, sectorCount: 1) }
        #expect(try fileBytes().allSatisfy { $0 == 0xFF })
    }

    @Test func accessesPastTheEndAreOutOfRange() throws {
        let flash = try makeFlash()
        var buffer = [UInt8](repeating: 0, count: 32)
        var span = buffer.mutableSpan
        #expect(throws: KVSError.outOfRange) { try flash.read(at: 1008, into: &span) }
        #expect(throws: KVSError.outOfRange) { try flash.read(at: -16, into: &span) }
        #expect(throws: KVSError.outOfRange) { try flash.write(at: 1008, [UInt8](repeating: 0, count: 32).span) }
        #expect(throws: KVSError.outOfRange) { try flash.erase(at: 768, sectorCount: 2) }
    }

    @Test func eraseSetsWholeSectorsToFFAndCountsThem() throws {
        let flash = try makeFlash()
        try flash.write(at: 256, [UInt8](repeating: 0, count: 256).span)
        try flash.write(at: 512, [UInt8](repeating: 0, count: 16).span)
        try flash.erase(at: 256, sectorCount: 1)
        let bytes = try fileBytes()
        #expect(bytes[256..<512].allSatisfy { $0 == 0xFF })
        #expect(bytes[512..<528].allSatisfy { $0 == 0 })
        #expect(flash.eraseCounts == [0, 1, 0, 0])
        #expect(flash.counters.sectorsErased == 1)
    }

    @Test func aReadOnlyImageRefusesWritesAndErases() throws {
        _ = try makeFlash()
        let flash = try FileFlash(openingImageAt: directory.path("flash.img"), sectorSize: 256, alignment: 16, mode: .readOnly)
        #expect(throws: KVSError.permissionDenied) { try flash.write(at: 0, [UInt8](repeating: 0, count: 16).span) }
        #expect(throws: KVSError.permissionDenied) { try flash.erase(at: 0, sectorCount: 1) }
        #expect(try fileBytes().allSatisfy { $0 == 0xFF })
    }

    @Test func openingTakesTheSectorCountFromTheFileSize() throws {
        _ = try makeFlash()
        let flash = try FileFlash(openingImageAt: directory.path("flash.img"), sectorSize: 128, alignment: 16, mode: .readOnly)
        #expect(flash.sectorCount == 8)
    }

    @Test func aFileWhoseSizeDoesNotMatchTheGeometryIsRefused() throws {
        _ = try makeFlash()
        let path = directory.path("flash.img")
        #expect(throws: FileFlashError.sizeMismatch(path: path, size: 1024, expected: 1280, sectorSize: 256, sectorCount: 5)) {
            _ = try FileFlash(openingImageAt: path, sectorSize: 256, sectorCount: 5, alignment: 16, mode: .readOnly)
        }
        #expect(throws: FileFlashError.sizeNotMultipleOfSector(path: path, size: 1024, sectorSize: 384)) {
            _ = try FileFlash(openingImageAt: path, sectorSize: 384, alignment: 16, mode: .readOnly)
        }
        let error = #expect(throws: FileFlashError.self) {
            _ = try FileFlash(openingImageAt: path, sectorSize: 256, sectorCount: 5, alignment: 16, mode: .readOnly)
        }
        #expect(error?.description == "'\(path)' is 1024 bytes but --sectors 5 x --sector-size 256 is 1280 bytes")
    }

    @Test func missingFilesAndDirectoriesAreReported() throws {
        #expect(throws: FileFlashError.cannotOpen(path: directory.path("none.img"), .noSuchFileOrDirectory)) {
            _ = try FileFlash(openingImageAt: directory.path("none.img"), sectorSize: 256, alignment: 16, mode: .readOnly)
        }
        #expect(throws: FileFlashError.notARegularFile(path: directory.url.path)) {
            _ = try FileFlash(openingImageAt: directory.url.path, sectorSize: 256, alignment: 16, mode: .readOnly)
        }
    }

    @Test func invalidGeometriesAreRefusedBeforeTouchingTheDisk() throws {
        #expect(throws: FileFlashError.self) {
            _ = try FileFlash.create(at: directory.path("a.img"), geometry: FlashGeometry(sectorSize: 0, sectorCount: 4, alignment: 16))
        }
        #expect(throws: FileFlashError.self) {
            _ = try FileFlash.create(at: directory.path("a.img"), geometry: FlashGeometry(sectorSize: 100, sectorCount: 4, alignment: 16))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("a.img")))
    }

    @Test func aStoreOnAFileKeepsItsDataAcrossReopening() throws {
        let path = directory.path("store.img")
        let configuration = StoreConfiguration(sectorSize: 512, sectorCount: 4)
        do {
            let flash = try FileFlash.create(at: path, geometry: FlashGeometry(sectorSize: 512, sectorCount: 4, alignment: 16))
            let session = try StoreSession(flash: flash, configuration: configuration, writable: true)
            try session.store.put("greeting", Array("hello".utf8))
            try flash.close()
        }
        let flash = try FileFlash(openingImageAt: path, sectorSize: 512, alignment: 16, mode: .readOnly)
        let session = try StoreSession(flash: flash, configuration: configuration, writable: false)
        #expect(session.initializationError == nil)
        #expect(try session.store.get("greeting") == Array("hello".utf8))
    }
}
