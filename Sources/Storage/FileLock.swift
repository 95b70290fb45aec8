#if canImport(Glibc)
import Glibc
#endif

/// An entry of a `SecureDirectory` whose lock the caller holds; only `withLock` makes one,
/// and it must not be used after `withLock` returns.
public struct LockedFile {
    let directory: SecureDirectory
    public let name: String

    public var path: String { directory.path(of: name) }

    /// See `SecureDirectory.read`.
    public func read(maxBytes: Int, secret: Bool = false) throws(StorageError) -> [UInt8]? {
        try directory.read(name, maxBytes: maxBytes, secret: secret)
    }

    /// Atomic replacement as `SecureDirectory.replace`, through the fixed temporary name
    /// `.NAME.tmp`: only the lock holder writes it, so a writer killed half-way leaves at most
    /// that one file, which the next writer reuses.
    public func replace(with bytes: [UInt8], mode: mode_t) throws(StorageError) {
        try directory.write(bytes, to: name, through: ".\(name).tmp", mode: mode, replaceStaleTemp: true)
    }
}

extension SecureDirectory {
    /// Runs `body` while holding the exclusive lock of `name`, for read-modify-write. The
    /// lock is `flock` on `.NAME.lock` beside the data (the data file itself is replaced by
    /// rename, so its inode cannot carry the lock). Lock files are never removed: removing
    /// one while another process waits on it would let two holders in.
    ///
    /// Waiting is bounded: a login must not hang behind a stuck writer. The lock is retried
    /// with growing, jittered pauses until `timeout`, then `StorageError.lockTimeout`. No
    /// signals or threads are involved, so this is safe inside any host process.
    ///
    /// Between hosts (a registry directory on NFS): Linux NFS clients implement `flock` with
    /// the server's byte-range locks (NLM for NFSv3, the protocol's own locks for v4), so the
    /// lock also serialises writers on different hosts — unless the share is mounted with
    /// `nolock` or `local_lock=flock|all`, where it only serialises processes of one host and
    /// two hosts updating the same user at the same moment can lose one of the two updates.
    /// Readers are unaffected either way: every write is a whole-file rename.
    ///
    /// A process that dies holding the lock releases it with its last descriptor.
    public func withLock<R>(_ name: String, timeout: Duration, _ body: (LockedFile) throws -> R) throws -> R {
        let lockName = ".\(name).lock"
        let lockPath = path(of: lockName)
        try Self.checkName(name, path(of: name))
        let file = openat(fd, lockName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0o600)
        guard file >= 0 else {
            throw classifyOpenFailure(errno, name: lockName, path: lockPath, expected: .regularFile, operation: "open")
        }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0 else { throw StorageError.system(path: lockPath, operation: "fstat", errno: errno) }
        try Self.checkFile(st, lockPath)

        let (seconds, attoseconds) = timeout.components
        let deadline = monotonicNanoseconds() + UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        var pause: UInt64 = 1_000_000
        while flock(file, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw StorageError.system(path: lockPath, operation: "flock", errno: code) }
            let now = monotonicNanoseconds()
            if now >= deadline {
                let waited = Int((timeout.components.seconds * 1000) + timeout.components.attoseconds / 1_000_000_000_000_000)
                throw StorageError.lockTimeout(path: path(of: name), milliseconds: waited)
            }
            // Jitter keeps a crowd of waiters from retrying in step.
            let sleep = min(pause / 2 + UInt64.random(in: 0...pause), deadline - now)
            var request = timespec(tv_sec: Int(sleep / 1_000_000_000), tv_nsec: Int(sleep % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            pause = min(pause * 2, 50_000_000)
        }
        defer { flock(file, LOCK_UN) }
        return try body(LockedFile(directory: self, name: name))
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
