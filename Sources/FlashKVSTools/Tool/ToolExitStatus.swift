/// The exit statuses of the `flashkvs` command: one per kind of failure,
/// so scripts can tell them apart. A writing command that fails leaves
/// the image byte-identical, whatever its status. Listed in `flashkvs --help` and
/// Docs/CLI.md (both generated from ``summary``).
public enum ToolExitStatus: Int32, CaseIterable, Sendable {
    case success = 0
    /// `verify` found problems (it printed a report of each).
    case problemsFound = 1
    /// The command line is wrong: unknown command or option, missing or
    /// malformed argument (bad hex, bad number), a key that is empty or
    /// over 63 bytes, a value too large for a sector, an unusable geometry.
    case badArgument = 2
    /// An input file (script, JSON, CSV) is malformed or holds a bad key
    /// or value; the message names the line.
    case badInput = 3
    /// The key is not in the store.
    case notFound = 4
    /// The image holds errors the store has not repaired (corrupt entries,
    /// missing copies, no erased sector): run `verify`, then `repair`.
    case corruptImage = 5
    /// The image does not match the options: its size is not the
    /// geometry's, nothing parses with --magic/--checksum, or it holds
    /// more keys than --max-entries.
    case configurationMismatch = 6
    /// A file could not be opened, read, written or flushed (missing file,
    /// permissions, disk error), or `create` found the file already there.
    case ioError = 7
    /// The store has no room: no space for the entry even after garbage
    /// collection, or the key table is full (--max-entries).
    case storeFull = 8
    /// An unexpected store status (a bug: please report it).
    case internalError = 9
    /// A read-only command (`get`, `list`, `export`, `stats`) cannot give
    /// the whole answer: the image holds data it cannot show with these
    /// options (entries of another format, data hidden in a sector that
    /// looks empty, keys beyond --max-entries, or nothing parsing at all:
    /// another format or geometry). `--partial` shows the rest.
    case incomplete = 10
    /// Data loss: the newest value of a key is corrupt (`get` names the
    /// key; `list` and `export` name every such key). `--partial` shows
    /// what is left (for `get`, an older value if one is kept).
    case dataLoss = 11

    /// One line for the help text and the documentation.
    public var summary: String {
        switch self {
        case .success: "success (verify: the image is clean)"
        case .problemsFound: "verify found problems in the image (see its report)"
        case .badArgument: "bad command line: unknown command or option, bad value, key or geometry, an argument that is not UTF-8"
        case .badInput: "malformed input file (script, JSON, CSV) or a key or value in it the store refuses; the message names the file and line"
        case .notFound: "key not found"
        case .corruptImage: "the image has unrepaired errors: run verify, then repair"
        case .configurationMismatch: "the image does not match the options: size versus geometry, magic/checksum, --max-entries"
        case .ioError: "a file could not be opened, read, written or flushed (or create found it exists)"
        case .storeFull: "no room left: no space even after garbage collection, or key table full"
        case .internalError: "unexpected store status (a bug)"
        case .incomplete: "get, list, export, stats: the image holds data they cannot show with these options (another format, hidden data, keys beyond --max-entries, another geometry); --partial shows the rest"
        case .dataLoss: "get: the key's newest value is corrupt (data loss); list, export: some key's is (each is named); --partial shows the rest"
        }
    }

    /// The table of every status, one `  N  summary` line each.
    public static var table: String {
        allCases.map { "  \($0.rawValue)  \($0.summary)" }.joined(separator: "\n")
    }
}
