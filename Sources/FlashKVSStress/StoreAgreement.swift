import FlashKVS

/// The "RAM tables agree with flash" invariant: a running store answers
/// exactly as a store freshly initialized over the same flash would.
///
/// The fresh store runs over a COPY of the flash (its lazy recovery may
/// write and erase, which must not change the flash under the running
/// store). Compared: the set of present keys (iteration), each key's
/// value or error through `get` (the present keys of either store plus
/// `extraKeys`, e.g. deleted and never-written ones) and the present count.
public enum StoreAgreement {
    /// What one store answers.
    public struct Snapshot: Equatable, Sendable {
        public var presentKeys: Set<String> = []
        /// Keys iteration returned empty (no copy of the key readable).
        public var unreadableItems = 0
        public var count = 0
        public var totalWithDeleted = 0
        public var state = ""
    }

    /// `get` of a key: the value, or the error.
    public static func read<Flash>(_ store: KeyValueStore<Flash>, _ key: String) -> Result<[UInt8], KVSError> {
        do throws(KVSError) { return .success(try store.get(key)) } catch { return .failure(error) }
    }

    public static func describe(_ result: Result<[UInt8], KVSError>) -> String {
        switch result {
        case .success(let value): ValueText.describe(value)
        case .failure(let error): "\(error.name)"
        }
    }

    public static func snapshot<Flash>(_ store: KeyValueStore<Flash>) -> Snapshot {
        var snapshot = Snapshot()
        for item in store.items {
            if item.keyCount == 0 { snapshot.unreadableItems += 1; continue }
            snapshot.presentKeys.insert(String(decoding: item.key, as: UTF8.self))
        }
        snapshot.count = store.count
        snapshot.totalWithDeleted = store.totalEntriesWithDeleted
        snapshot.state = "\(store.state)"
        return snapshot
    }

    /// The differences between `store` and a fresh store over `image` (a
    /// copy of its flash), made by `open`. Empty when they agree. A fresh
    /// initialize() that throws is a difference too (the next reboot would
    /// fail); `freshInitError` receives its error.
    public static func differences<Flash>(
        _ store: KeyValueStore<Flash>, image: RAMFlash, extraKeys: [String],
        open: (RAMFlash) -> KeyValueStore<RAMFlash>?, freshInitError: inout KVSError?
    ) -> [String] {
        guard let fresh = open(image) else { return ["cannot create a fresh store over the same flash"] }
        var differences: [String] = []
        do throws(KVSError) { try fresh.initialize() } catch {
            freshInitError = error
            differences.append("a fresh initialize() over the same flash throws \(error.name)")
        }
        let mine = snapshot(store), theirs = snapshot(fresh)
        if mine.presentKeys != theirs.presentKeys {
            let onlyMine = mine.presentKeys.subtracting(theirs.presentKeys).sorted()
            let onlyTheirs = theirs.presentKeys.subtracting(mine.presentKeys).sorted()
            differences.append("iteration: only the running store has \(onlyMine), only a fresh init has \(onlyTheirs)")
        }
        if mine.unreadableItems != theirs.unreadableItems {
            differences.append("iteration: \(mine.unreadableItems) unreadable keys in the running store, \(theirs.unreadableItems) after a fresh init")
        }
        if mine.count != theirs.count {
            differences.append("count: running store \(mine.count), fresh init \(theirs.count)")
        }
        // Deleted keys are not compared: heavy maintenance forgets a deleted
        // key once no older version is on flash, while its tombstone stays
        // until its sector is collected; a fresh init still lists it. No
        // read can tell the two apart.
        let keys = mine.presentKeys.union(theirs.presentKeys).union(extraKeys).sorted()
        for key in keys {
            let a = read(store, key), b = read(fresh, key)
            if a != b {
                differences.append("get(\(key)): running store \(describe(a)), fresh init \(describe(b))")
            }
        }
        return differences
    }
}
