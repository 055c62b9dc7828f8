import ArgumentParser
import FlashKVS
import FlashKVSTools

struct MaintainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintain", abstract: "Run the store's partial, full or heavy maintenance.",
        discussion: """
            partial: garbage-collect one sector. full: repair detected errors, then collect every \
            sector holding only stale data (every sector with reclaimable bytes when over 70 % \
            in use). heavy: full, then collect every sector with reclaimable bytes and drop \
            deleted keys (changes iteration order).
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "partial, full or heavy.") var kind: StoreScript.Maintenance
    @Flag(help: "Print the sector map afterwards, with this run's erase counts.") var map = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let session = try ImageAccess.openForWriting(image, options, createIfMissing: false, allowErrors: true)
        defer { try? session.flash.flush() }
        let store = session.store
        let before = store.storageStats
        var note = ""
        do {
            switch kind {
            case .partial:
                do {
                    try store.partialMaintenance()
                } catch .notFound {
                    note = " (nothing to collect)"
                }
            case .full: try store.fullMaintenance()
            case .heavy: try store.heavyMaintenance()
            }
        } catch {
            throw CLIError.store(error, "\(kind.rawValue) maintenance", image: image, flash: session.flash)
        }
        try ImageAccess.close(session)
        let after = store.storageStats
        Output.write("\(kind.rawValue) maintenance of '\(image)'\(note): reclaimable \(before.reclaimableBytes) -> "
            + "\(after.reclaimableBytes) bytes, writable \(before.writableBytes) -> \(after.writableBytes) bytes, "
            + "\(session.flash.counters.sectorsErased) sectors erased\n")
        if map {
            let inspection = try ImageAccess.inspect(session.flash, session.configuration)
            Output.write(SectorMap.text(
                inspection, title: image, style: Output.standardOutputTakesColor ? .ansi : .plain,
                eraseCounts: session.flash.eraseCounts))
        }
        if store.state != .ready {
            Output.warning("'\(image)' still has unrepaired errors; run 'flashkvs repair \(image)'")
        }
    }
}
