#if canImport(Glibc)
import Glibc
#endif
import Identifiers
import JSON
import Storage

/// Writes made on this host that the directory has not confirmed yet: one file per write in
/// a root-only directory (`state_dir/directory-queue`, not the cache: a cache may be thrown
/// away, the queue may not). Each file is written whole, fsynced and renamed into place
/// before the write is reported done (`SecureDirectory.replace`), so a write survives SIGKILL
/// and a reboot; pam_passkey_directory sends them in the order they were made and removes
/// each once the directory has it.
public struct WriteQueue: Sendable {
    public static let directoryName = "directory-queue"
    static let maxBytes = 1 << 20

    public let directory: String

    public init(stateDirectory: String) {
        let base = stateDirectory.count > 1 && stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
        directory = (base == "/" ? "" : base) + "/" + Self.directoryName
    }

    public init(directory: String) { self.directory = directory }

    /// One queued write and the file it is in.
    public struct Entry: Sendable {
        public let name: String
        public let write: PendingWrite
    }

    /// Queues `write`. Names sort in the order writes were made on this host: the time in
    /// nanoseconds, then the pid.
    public func append(_ write: PendingWrite) throws(StorageError) {
        let dir = try SecureDirectory.create(directory, mode: 0o700, parents: false)
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let nanos = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        let name = pad(nanos, 20) + "-" + pad(UInt64(getpid()), 10) + ".json"
        let bytes: [UInt8]
        do { bytes = Array(try JSONCoding.encode(write).render().utf8) + [UInt8(ascii: "\n")] } catch {
            throw .malformed(path: dir.path(of: name), reason: "cannot be encoded: \(error)")
        }
        try dir.replace(name, with: bytes, mode: 0o600)
    }

    /// Every queued write, oldest first. A file that cannot be read is skipped here and
    /// reported in `unreadable` (it stays for an administrator to look at).
    public func entries() throws(StorageError) -> (entries: [Entry], unreadable: [String]) {
        let dir: SecureDirectory
        do { dir = try SecureDirectory.open(directory) } catch .notFound(let p) where p == directory { return ([], []) }
        var out: [Entry] = []
        var bad: [String] = []
        for name in try dir.entries().sorted() where name.hasSuffix(".json") {
            do {
                guard let bytes = try dir.read(name, maxBytes: Self.maxBytes, secret: true) else { continue }
                out.append(Entry(name: name, write: try JSONCoding.decode(PendingWrite.self, from: try JSONValue.parse(bytes))))
            } catch {
                bad.append("\(dir.path(of: name)): \(error)")
            }
        }
        return (out, bad)
    }

    /// How many writes wait.
    public func count() -> Int { (try? entries().entries.count) ?? 0 }

    /// The directory has `entry`.
    public func remove(_ entry: Entry) throws(StorageError) {
        try SecureDirectory.open(directory).remove(entry.name)
    }

    /// The directory refused `entry` for good (no access, a constraint): it is kept beside the
    /// queue as `.rejected-NAME` for an administrator, and no longer sent.
    public func reject(_ entry: Entry) throws(StorageError) {
        try SecureDirectory.open(directory).rename(entry.name, to: ".rejected-" + entry.name)
    }
}

private func pad(_ n: UInt64, _ width: Int) -> String {
    let digits = String(n)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
