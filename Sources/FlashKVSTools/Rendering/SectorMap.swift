/// A picture of a partition: one bar per sector showing where its live,
/// stale, corrupt and free bytes are.
public enum SectorMap {
    /// How the text map is drawn.
    public enum Style: Sendable {
        /// ASCII glyphs only (for files and pipes).
        case plain
        /// Colored block glyphs with ANSI escape codes (for terminals).
        case ansi
    }

    /// The kind drawn in a cell or a bar segment.
    enum Kind: CaseIterable {
        case live, stale, corrupt, free

        init(_ region: InspectedSector.Region.Kind) {
            switch region {
            case .valid, .unindexed: self = .live
            case .stale: self = .stale
            case .corrupt, .hidden: self = .corrupt
            case .free: self = .free
            }
        }

        var plainGlyph: String {
            switch self {
            case .live: "#"
            case .stale: "+"
            case .corrupt: "X"
            case .free: "."
            }
        }

        var ansiGlyph: String {
            switch self {
            case .live: "\u{1B}[32m█\u{1B}[0m"
            case .stale: "\u{1B}[33m▓\u{1B}[0m"
            case .corrupt: "\u{1B}[1;31mX\u{1B}[0m"
            case .free: "\u{1B}[90m·\u{1B}[0m"
            }
        }

        var name: String {
            switch self {
            case .live: "live"
            case .stale: "stale"
            case .corrupt: "corrupt"
            case .free: "free"
            }
        }

        var color: String {
            switch self {
            case .live: "#2e9d4a"
            case .stale: "#e0a800"
            case .corrupt: "#d03030"
            case .free: "#e4e4e4"
            }
        }
    }

    /// The map as text: a header line, one line per sector (bar, then
    /// bytes live / stale / corrupt / free, then erases when
    /// `eraseCounts` is given) and a legend.
    ///
    /// A cell covers `sectorSize / width` bytes and shows the kind with
    /// the most bytes in it (stale before live before free on a tie),
    /// except that any corrupt byte shows as corrupt.
    /// "live" counts every copy the key table keeps (needed tombstones too)
    /// and intact entries of keys beyond the capacity; "corrupt" includes
    /// data hidden in sectors that look empty.
    public static func text(
        _ inspection: ImageInspection, title: String, style: Style, width: Int = 64, eraseCounts: [Int]? = nil
    ) -> String {
        let sectorSize = inspection.sectorSize
        let cells = max(1, min(width, sectorSize))
        let indexWidth = String(max(inspection.sectorCount - 1, 0)).count
        let numberWidth = String(sectorSize).count
        var lines: [String] = []
        lines.append("\(title): \(counted(inspection.sectorCount, "sector")) x \(sectorSize) bytes, "
            + "\(counted(inspection.liveKeyCount, "key")), one cell = \(counted(sectorSize / cells, "byte"))")
        for usage in inspection.sectors {
            var bar = ""
            for cell in 0..<cells {
                let kind = dominantKind(usage, from: cell * sectorSize / cells, to: (cell + 1) * sectorSize / cells)
                bar += style == .ansi ? kind.ansiGlyph : kind.plainGlyph
            }
            var line = "sector " + pad(String(usage.index), indexWidth) + " [" + bar + "]"
            line += " live " + pad(String(usage.validBytes + usage.unindexedBytes), numberWidth)
            line += "  stale " + pad(String(usage.staleBytes), numberWidth)
            line += "  corrupt " + pad(String(usage.corruptBytes + usage.hiddenBytes), numberWidth)
            line += "  free " + pad(String(usage.freeBytes), numberWidth)
            if let eraseCounts, usage.index < eraseCounts.count { line += "  erases \(eraseCounts[usage.index])" }
            lines.append(line)
        }
        let legend = Kind.allCases.map { (style == .ansi ? $0.ansiGlyph : $0.plainGlyph) + " " + $0.name }
        lines.append("legend: " + legend.joined(separator: "  ")
            + (eraseCounts == nil ? "  (erase counts unknown: pw_kvs keeps none on flash)" : ""))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The map as a standalone SVG document: one proportional bar per
    /// sector with its byte counts, and a legend.
    public static func svg(_ inspection: ImageInspection, title: String, eraseCounts: [Int]? = nil) -> String {
        let barX = 90
        let barWidth = 640
        let rowHeight = 22
        let top = 40
        let height = top + inspection.sectorCount * rowHeight + 40
        let sectorSize = max(inspection.sectorSize, 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(barX + barWidth + 330)" height="\(height)" \
            font-family="monospace" font-size="12">
            <title>\(escapeXML(title))</title>
            <text x="10" y="20" font-size="14">\(escapeXML(title)): \(counted(inspection.sectorCount, "sector")) x \
            \(inspection.sectorSize) bytes, \(counted(inspection.liveKeyCount, "key"))</text>

            """
        for usage in inspection.sectors {
            let y = top + usage.index * rowHeight
            svg += "<g><text x=\"10\" y=\"\(y + 14)\">sector \(usage.index)</text>\n"
            for region in usage.regions {
                let x = barX + region.offset * barWidth / sectorSize
                let end = barX + (region.offset + region.length) * barWidth / sectorSize
                let kind = Kind(region.kind)
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(max(end - x, 1))\" height=\"\(rowHeight - 6)\" "
                    + "fill=\"\(kind.color)\"><title>\(region.kind.rawValue): offset \(region.offset), "
                    + "\(region.length) bytes</title></rect>\n"
            }
            svg += "<rect x=\"\(barX)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"\(rowHeight - 6)\" fill=\"none\" "
                + "stroke=\"#555\"/>\n"
            var numbers = "live \(usage.validBytes + usage.unindexedBytes) stale \(usage.staleBytes) corrupt "
                + "\(usage.corruptBytes + usage.hiddenBytes) free \(usage.freeBytes)"
            if let eraseCounts, usage.index < eraseCounts.count { numbers += " erases \(eraseCounts[usage.index])" }
            svg += "<text x=\"\(barX + barWidth + 10)\" y=\"\(y + 14)\">\(numbers)</text></g>\n"
        }
        var legendX = barX
        let legendY = top + inspection.sectorCount * rowHeight + 14
        for kind in Kind.allCases {
            svg += "<rect x=\"\(legendX)\" y=\"\(legendY - 10)\" width=\"12\" height=\"12\" fill=\"\(kind.color)\" "
                + "stroke=\"#555\"/><text x=\"\(legendX + 16)\" y=\"\(legendY)\">\(kind.name)</text>\n"
            legendX += 90
        }
        svg += "</svg>\n"
        return svg
    }

    /// The kind shown for the bytes `[start, end)` of a sector.
    static func dominantKind(_ usage: InspectedSector, from start: Int, to end: Int) -> Kind {
        var bytes: [Kind: Int] = [:]
        for region in usage.regions {
            let overlap = min(end, region.offset + region.length) - max(start, region.offset)
            if overlap > 0 { bytes[Kind(region.kind), default: 0] += overlap }
        }
        if bytes[.corrupt, default: 0] > 0 { return .corrupt }
        // On a tie the first wins: stale data shows rather than hides.
        return [Kind.stale, .live, .free].max { bytes[$0, default: 0] < bytes[$1, default: 0] } ?? .free
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func escapeXML(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
