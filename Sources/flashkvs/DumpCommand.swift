import ArgumentParser
import FlashKVS
import FlashKVSTools

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "List every entry physically on flash, with its state.",
        discussion: """
            Keys are shown as list shows them (bare text, a JSON string, or 0x hex for a key that is \
            not UTF-8; in JSON "key": null and "key_hex"). Walks each sector like the store's initialization: entries are parsed and their \
            checksums verified; corrupt bytes are skipped to the next 16-byte-aligned position \
            holding the magic. States: live (current value), deleted (current tombstone), stale \
            (superseded version or extra copy), corrupt (unusable bytes), unindexed (an intact \
            entry of a key beyond --max-entries). Records of atomic batches (Docs/BATCHES.md) are \
            labelled: the intent record under the reserved key 0x006b7662 ("batch intent: first \
            id F, N members, digest 0x..."), each member ("batch @F member i of N"), the commit \
            record ("batch @F commit") or, after a rollback, its end record; a summary of each \
            batch follows (committed, torn, rolled back). In JSON, "batch" on each entry and a \
            "batches" list. Read-only.
            """)

    @Argument(help: "The image file.") var image: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: ImageOptions

    func run() throws(CLIError) {
        let (flash, configuration) = try ImageAccess.openFlash(image, options)
        let inspection = try ImageAccess.inspect(flash, configuration, path: image)
        if json {
            Output.write(Self.json(inspection).serialized() + "\n")
        } else {
            Output.write(Self.text(inspection, image: image))
        }
    }

    static func json(_ inspection: ImageInspection) -> JSON {
        .object([
            ("geometry", Reports.geometry(inspection.configuration, sectorCount: inspection.sectorCount)),
            ("entries", .array(inspection.entries.map { entryJSON($0, configuration: inspection.configuration) })),
            ("batches", Reports.batchesJSON(inspection)),
        ])
    }

    /// One entry; `format` is "primary" or "additional" for an entry of a
    /// configured format, and null (as are its header fields) otherwise.
    static func entryJSON(_ entry: InspectedEntry, configuration: StoreConfiguration) -> JSON {
        var members: [(String, JSON)] = [
            ("sector", .int(entry.sector)), ("offset", .int(entry.offset)), ("address", .int(entry.address)),
            ("size", .int(entry.size)),
        ]
        let header = entry.header
        let known = header.map { configuration.format(magic: $0.magic) != nil } ?? false
        let primary = header?.magic == configuration.magic
        members.append(("magic", header.map { .string(hex32($0.magic)) } ?? .null))
        members.append(("format", known ? .string(primary ? "primary" : "additional") : .null))
        members.append(("transaction_id", known ? header.map { .int($0.transactionID) } ?? .null : .null))
        members += entry.key.map(ListCommand.keyJSON) ?? [("key", .null)]
        members.append(("value_size", known && !(header?.isTombstone ?? true) ? .int(header!.valueSize) : .null))
        members.append(("tombstone", .bool(known && entry.isTombstone)))
        members.append(("state", .string(entry.state.rawValue)))
        members.append(("detail", entry.detail.map { .string($0) } ?? .null))
        members.append(("batch", entry.batch.map(Reports.batchRoleJSON) ?? .null))
        return .object(members)
    }

    static func text(_ inspection: ImageInspection, image: String) -> String {
        let configuration = inspection.configuration
        var lines = ["'\(image)': \(counted(inspection.sectorCount, "sector")) x \(inspection.sectorSize) bytes, "
            + "\(Reports.formats(configuration)), alignment \(configuration.alignment), redundancy "
            + "\(configuration.redundancy)"]
        let columns = [6, 6, 7, 5, 10, 8, 9, 6]
        func row(_ cells: [String], _ key: String) -> String {
            zip(cells, columns).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: " ")
                + "  " + key
        }
        lines.append(row(["sector", "offset", "address", "size", "magic", "txid", "state", "value"], "key"))
        for entry in inspection.entries {
            let header = entry.header
            let known = header.map { configuration.format(magic: $0.magic) != nil } ?? false
            let value = !known ? "-" : entry.isTombstone ? "tomb" : String(header!.valueSize)
            var key = entry.key.map(tableKey) ?? "-"
            if let batch = entry.batch { key += "  [\(batch.label)]" }
            if let detail = entry.detail { key += "  (\(detail))" }
            lines.append(row([
                String(entry.sector), String(entry.offset), String(entry.address), String(entry.size),
                header.map { hex32($0.magic) } ?? "-", known ? String(header!.transactionID) : "-",
                entry.state.rawValue, value,
            ], key))
        }
        let counts = InspectedEntry.State.allCases.map { state in
            "\(inspection.entries.count { $0.state == state }) \(state.rawValue)"
        }
        lines.append(counted(inspection.entries.count, "entry", plural: "entries") + ": " + counts.joined(separator: ", "))
        for batch in inspection.batches {
            lines.append(batch.state == .torn ? batch.rollbackDescription : batch.summary)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Pieces shared by the reports.
enum Reports {
    /// The batches of an inspection (`dump --json`, `verify --json`): each
    /// intent as stored, its state, how many members are on flash, whether
    /// their digest matches, and for a torn batch the keys its rollback
    /// writes back.
    static func batchesJSON(_ inspection: ImageInspection) -> JSON {
        .array(inspection.batches.map { batch in
            .object([
                ("first_transaction_id", .int(Int(batch.intent.firstTransactionID))),
                ("intent_transaction_id", .int(Int(batch.intentTransactionID))),
                ("member_count", .int(batch.intent.memberCount)),
                ("digest", .string(hex32(batch.intent.digest))),
                ("intent_addresses", .array(batch.intentAddresses.map { .int($0) })),
                ("state", .string(batch.state.rawValue)),
                ("members_on_flash", .int(batch.membersOnFlash)),
                ("digest_matches", batch.digestMatches.map { .bool($0) } ?? .null),
                ("rollback", .array(batch.rollback.map { item in
                    .object(ListCommand.keyJSON(item.key) + [
                        ("member", .int(item.memberNumber)),
                        ("restored_transaction_id", item.restoredTransactionID.map { .int(Int($0)) } ?? .null),
                    ])
                })),
            ])
        })
    }

    /// An entry's role in a batch (`dump --json`).
    static func batchRoleJSON(_ role: BatchRole) -> JSON {
        func intentMembers(_ intent: BatchRecord.Intent) -> [(String, JSON)] {
            [("first_transaction_id", .int(Int(intent.firstTransactionID))), ("member_count", .int(intent.memberCount)),
             ("digest", .string(hex32(intent.digest)))]
        }
        var members: [(String, JSON)]
        switch role {
        case .intent(let intent): members = [("role", .string("intent"))] + intentMembers(intent)
        case .member(let intent, let number):
            members = [("role", .string("member")), ("member", .int(number))] + intentMembers(intent)
        case .commit(let intent): members = [("role", .string("commit"))] + intentMembers(intent)
        case .rollbackEnd(let intent): members = [("role", .string("rollback_end"))] + intentMembers(intent)
        case .end: members = [("role", .string("end"))]
        case .unknownIntent: members = [("role", .string("unknown_intent"))]
        }
        members.append(("label", .string(role.label)))
        return .object(members)
    }

    /// The geometry and the primary format, as the reference's statistics
    /// print them; `additional_formats` follows only when there are some.
    static func geometry(_ configuration: StoreConfiguration, sectorCount: Int) -> JSON {
        var members: [(String, JSON)] = [
            ("sector_size", .int(configuration.sectorSize)), ("sectors", .int(sectorCount)),
            ("alignment", .int(configuration.alignment)), ("magic", .string(hex32(configuration.magic))),
            ("checksum", .string(configuration.checksum.rawValue)),
        ]
        if !configuration.additionalFormats.isEmpty {
            members.append(("additional_formats", .array(configuration.additionalFormats.map {
                .object([("magic", .string(hex32($0.magic))), ("checksum", .string($0.checksum.rawValue))])
            })))
        }
        return .object(members)
    }

    /// "magic 0x..., crc16", then "also read: magic 0x..., none" for each
    /// additional format.
    static func formats(_ configuration: StoreConfiguration) -> String {
        let primary = "magic \(hex32(configuration.magic)), \(configuration.checksum.rawValue)"
        let others = configuration.additionalFormats.map { "magic \(hex32($0.magic)), \($0.checksum.rawValue)" }
        return others.isEmpty ? primary : primary + " (also read: " + others.joined(separator: "; ") + ")"
    }
}
