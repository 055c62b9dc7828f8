import FlashKVS

/// What an entry is to an atomic batch (Docs/BATCHES.md). Batches are
/// named by their first member's transaction id: `batch @F`.
public enum BatchRole: Equatable, Sendable {
    /// The intent record (the reserved key `00 6B 76 62` with a 12-byte
    /// version-1 value), as it is stored.
    case intent(BatchRecord.Intent)
    /// Member `number` (1-based) of the batch of `intent`: an ordinary
    /// entry whose transaction id is the intent's first id + number - 1.
    case member(of: BatchRecord.Intent, number: Int)
    /// The commit record: the reserved key's tombstone with the id after
    /// the last member's.
    case commit(of: BatchRecord.Intent)
    /// The reserved key's tombstone written after the batch was rolled back.
    case rollbackEnd(of: BatchRecord.Intent)
    /// A tombstone of the reserved key whose intent is no longer on flash
    /// (garbage-collected): the end of an earlier batch.
    case end
    /// A value under the reserved key that is not a version-1 intent: the
    /// store leaves it alone (no rollback).
    case unknownIntent

    /// `batch @F member 2 of 5`, `batch intent: first id F, 5 members,
    /// digest 0x...`, `batch @F commit`...
    public var label: String {
        switch self {
        case .intent(let intent):
            "batch intent: first id \(intent.firstTransactionID), \(counted(intent.memberCount, "member")), "
                + "digest \(hex32(intent.digest))"
        case .member(let intent, let number):
            "batch @\(intent.firstTransactionID) member \(number) of \(intent.memberCount)"
        case .commit(let intent): "batch @\(intent.firstTransactionID) commit"
        case .rollbackEnd(let intent): "batch @\(intent.firstTransactionID) rolled back (end record)"
        case .end: "batch end record (its intent is no longer on flash)"
        case .unknownIntent: "batch record of an unknown version (not a version-1 intent; left alone)"
        }
    }
}

/// One atomic batch whose intent record is on flash.
public struct InspectedBatch: Equatable, Sendable {
    public enum State: String, Sendable, CaseIterable {
        /// Its commit record is on flash: every member was written.
        case committed
        /// Its intent is the newest version of the reserved key: a power cut
        /// came before the commit record; a store with batches enabled rolls
        /// it back at init.
        case torn
        /// The record that ends a rollback is on flash.
        case rolledBack = "rolled_back"
        /// A later batch record follows, but the one that ended this batch
        /// was garbage-collected: committed or rolled back, no longer known.
        case ended
    }

    /// A key that the rollback of a torn batch writes back.
    public struct Rollback: Equatable, Sendable {
        public var key: [UInt8]
        /// Which member (1-based) is the key's newest version.
        public var memberNumber: Int
        /// The transaction id of the version written back, or nil when the
        /// key is deleted (it had no version before the batch, or a tombstone).
        public var restoredTransactionID: UInt32?
    }

    /// The intent as it is stored (first member id, member count, digest).
    public var intent: BatchRecord.Intent
    public var intentTransactionID: UInt32
    /// Addresses of the intent record's copies.
    public var intentAddresses: [Int]
    public var state: State
    /// How many of the members' transaction ids have an intact entry on flash.
    public var membersOnFlash: Int
    /// Whether the digest of the members found equals the intent's; nil
    /// unless every member is on flash.
    public var digestMatches: Bool?
    /// For a torn batch: the keys whose newest version is a member, which
    /// the rollback writes back, in the key table's order.
    public var rollback: [Rollback]

    /// `batch @F`.
    public var name: String { "batch @\(intent.firstTransactionID)" }

    /// One line about the batch, for `verify`.
    public var summary: String {
        var text = "\(name) (intent transaction \(intentTransactionID), \(counted(intent.memberCount, "member")), "
            + "digest \(hex32(intent.digest))): "
        switch state {
        case .committed: text += "committed"
        case .rolledBack: text += "rolled back"
        case .ended: text += "ended (its end record was garbage-collected)"
        case .torn: text += "torn"
        }
        if let digestMatches, !digestMatches { text += "; its members' digest does not match the intent's" }
        return text
    }

    /// For a torn batch: what init with batches enabled does, in words.
    public var rollbackDescription: String {
        var text = "\(name) is torn (intent transaction \(intentTransactionID), \(counted(intent.memberCount, "member")), "
            + "digest \(hex32(intent.digest))): \(membersOnFlash) of \(intent.memberCount) members on flash, no commit "
            + "record; a store with batches enabled rolls it back at init (any flashkvs write, or 'flashkvs repair', "
            + "does it): "
        if rollback.isEmpty {
            text += "no member is any key's newest version, only the record that ends the batch is written"
        } else {
            text += rollback.map { item in
                displayKey(item.key) + (item.restoredTransactionID.map { " back to its value of transaction \($0)" }
                    ?? " deleted (absent before the batch)")
            }.joined(separator: ", ")
        }
        return text + "; until then pw_kvs and stores without batches read it partly applied"
    }
}

extension ImageInspection {
    /// The batch a power cut left torn, which a store with batches enabled
    /// rolls back at init; nil when there is none.
    public var tornBatch: InspectedBatch? { batches.first { $0.state == .torn } }

    /// Finds the batches (intent records, decoded from `intentValues`, the
    /// reserved key's values by address) and labels their records and
    /// members, with the store's rules (KeyValueStore+BatchRecovery).
    mutating func classifyBatches(intentValues: [Int: [UInt8]]) {
        // Intents by transaction id (copies share one), oldest first.
        var intents: [(id: UInt32, intent: BatchRecord.Intent, addresses: [Int])] = []
        var reservedRecordIDs = Set<UInt32>()
        for index in entries.indices where entries[index].state != .corrupt && entries[index].state != .unindexed {
            guard let key = entries[index].key, BatchRecord.isReserved(key.span),
                  let header = entries[index].header else { continue }
            reservedRecordIDs.insert(header.transactionID)
            guard !header.isTombstone else { continue }
            guard let value = intentValues[entries[index].address],
                  let intent = BatchRecord.Intent(decoding: value.span) else {
                entries[index].batch = .unknownIntent
                continue
            }
            entries[index].batch = .intent(intent)
            if let position = intents.firstIndex(where: { $0.id == header.transactionID }) {
                intents[position].addresses.append(entries[index].address)
            } else {
                intents.append((header.transactionID, intent, [entries[index].address]))
            }
        }
        guard !reservedRecordIDs.isEmpty else { return }
        intents.sort { $0.id < $1.id }
        let orderedRecordIDs = reservedRecordIDs.sorted()

        /// The newest intent older than `id`.
        func intentBefore(_ id: UInt32) -> (id: UInt32, intent: BatchRecord.Intent, addresses: [Int])? {
            intents.last { $0.id < id }
        }

        // Label members and end records.
        for index in entries.indices where entries[index].state != .unindexed && entries[index].batch == nil {
            guard let key = entries[index].key, let header = entries[index].header else { continue }
            let id = header.transactionID
            if BatchRecord.isReserved(key.span) {
                guard header.isTombstone, entries[index].state != .corrupt else { continue }
                if let owner = intents.first(where: { $0.intent.commitTransactionID == id }) {
                    entries[index].batch = .commit(of: owner.intent)
                } else if let owner = intentBefore(id),
                          orderedRecordIDs.first(where: { $0 > owner.id }) == id {
                    entries[index].batch = .rollbackEnd(of: owner.intent)
                } else {
                    entries[index].batch = .end
                }
            } else if let owner = intentBefore(id), owner.intent.isMember(id) {
                entries[index].batch = .member(of: owner.intent, number: Int(id - owner.intent.firstTransactionID) + 1)
            }
        }

        let reserved = keys.first { BatchRecord.isReserved($0.key.span) }
        for (intentID, intent, addresses) in intents {
            // One intact entry per member id, for the count and the digest.
            var members: [UInt32: InspectedEntry] = [:]
            for entry in entries where entry.state != .corrupt && entry.state != .unindexed {
                if case .member(let owner, _) = entry.batch, owner == intent, let header = entry.header,
                   members[header.transactionID] == nil {
                    members[header.transactionID] = entry
                }
            }
            var digestMatches: Bool? = nil
            if members.count == intent.memberCount {
                var digest = BatchRecord.emptyDigest
                for offset in 0..<UInt32(intent.memberCount) {
                    guard let member = members[intent.firstTransactionID + offset], let key = member.key else { break }
                    digest = BatchRecord.digest(adding: KeyHash.of(key.span), isDelete: member.isTombstone, to: digest)
                }
                digestMatches = digest == intent.digest
            }
            let state: InspectedBatch.State
            if let reserved, !reserved.isDeleted, reserved.transactionID == intentID {
                state = .torn
            } else if reservedRecordIDs.contains(intent.commitTransactionID) {
                state = .committed
            } else if let next = orderedRecordIDs.first(where: { $0 > intentID }),
                      !intents.contains(where: { $0.id == next }) {
                state = .rolledBack
            } else {
                state = .ended
            }
            var rollback: [InspectedBatch.Rollback] = []
            if state == .torn {
                for key in keys where !BatchRecord.isReserved(key.key.span) && intent.isMember(key.transactionID) {
                    // The version before the batch: the newest intact entry of the key older than the intent.
                    let prior = entries.filter {
                        $0.key == key.key && $0.state != .corrupt && $0.state != .unindexed
                            && ($0.header?.transactionID ?? .max) < intentID
                    }.max { $0.header!.transactionID < $1.header!.transactionID }
                    rollback.append(InspectedBatch.Rollback(
                        key: key.key, memberNumber: Int(key.transactionID - intent.firstTransactionID) + 1,
                        restoredTransactionID: prior.flatMap { $0.isTombstone ? nil : $0.header?.transactionID }))
                }
            }
            batches.append(InspectedBatch(
                intent: intent, intentTransactionID: intentID, intentAddresses: addresses, state: state,
                membersOnFlash: members.count, digestMatches: digestMatches, rollback: rollback))
        }
    }
}
