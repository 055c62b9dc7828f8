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
            deleted keys (changes iteration order). The image is replaced only when maintenance \
            succeeds and changed something.
            """)

    @Argument(help: "The image file.") var image: String
    @Argument(help: "partial, full or heavy.") var kind: StoreScript.Maintenance
    @Flag(help: "Print the sector map afterwards, with this run's erase counts.") var map = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let edit = try ImageAccess.edit(image, options, createIfMissing: false, allowErrors: true)
        let store = edit.store
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
            throw CLIError.store(error, "\(kind.rawValue) maintenance", image: image, flash: edit.flash)
        }
        let inspection = map ? try ImageAccess.inspect(edit.flash, edit.session.configuration, path: image) : nil
        let erased = edit.flash.counters.sectorsErased
        let eraseCounts = edit.flash.eraseCounts
        try edit.finish()
        let after = store.storageStats
        Output.write("\(kind.rawValue) maintenance of '\(image)'\(note): reclaimable \(before.reclaimableBytes) -> "
            + "\(after.reclaimableBytes) bytes, writable \(before.writableBytes) -> \(after.writableBytes) bytes, "
            + "\(counted(erased, "sector")) erased\n")
        if let inspection {
            Output.write(SectorMap.text(
                inspection, title: image, style: Output.standardOutputTakesColor ? .ansi : .plain,
                eraseCounts: eraseCounts))
        }
        if store.state != .ready {
            Output.warning("'\(image)' still has unrepaired errors; run 'flashkvs repair \(image)'")
        }
    }
}
