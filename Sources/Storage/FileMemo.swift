#if canImport(Glibc)
import Glibc
#endif

/// The last file of one kind a process read, and what it made of it (`derive`): a policy
/// file parsed, a machine id hashed. The file is checked on every read with the rules for a
/// file read as root (symbolic link, kind, owner, mode, size); it is read again unless it is
/// the same file in the same settled state (`FileIdentity`), and derived again unless its
/// bytes differ, so nothing can be stale. One entry, behind a lock: a host may run PAM on
/// several threads (the module itself starts none).
public final class FileMemo<Derived>: @unchecked Sendable {
    private struct Entry {
        let path: String
        let identity: FileIdentity
        let bytes: [UInt8]
        let derived: Derived
    }

    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var last: Entry? = nil

    public init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    /// What `derive` makes of the file at `path` (at most `maxBytes`); nil when there is no
    /// such file (or no such directory).
    public func read<E: Error>(_ path: String, maxBytes: Int,
                               derive: ([UInt8]) throws(E) -> Derived) throws(FileMemoError<E>) -> Derived? {
        let memo = entry(path: path)
        let found: CheckedRead
        do {
            found = try SecureFile.read(path, maxBytes: maxBytes, unlessUnchanged: memo?.identity)
        } catch .notFound {
            return nil
        } catch {
            throw .storage(error)
        }
        switch found {
        case .missing:
            return nil
        case .unchanged:
            // `memo` is the entry whose identity the file still has (without one nothing is
            // unchanged).
            if let memo { return memo.derived }
            forget()
            return try read(path, maxBytes: maxBytes, derive: derive)
        case .content(let bytes, let identity):
            let derived: Derived
            if let memo, memo.bytes == bytes {
                derived = memo.derived
            } else {
                do { derived = try derive(bytes) } catch { throw .derive(error) }
            }
            remember(Entry(path: path, identity: identity, bytes: bytes, derived: derived))
            return derived
        }
    }

    /// The identity the file at `path` had when it was last read (for tests).
    func identity(path: String) -> FileIdentity? { entry(path: path)?.identity }

    private func entry(path: String) -> Entry? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard let last, last.path == path else { return nil }
        return last
    }

    private func remember(_ entry: Entry) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        last = entry
    }

    private func forget() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        last = nil
    }
}

/// Why `FileMemo.read` gave nothing: the file could not be trusted or read, or `derive`
/// refused its content.
public enum FileMemoError<E: Error>: Error {
    case storage(StorageError)
    case derive(E)
}
