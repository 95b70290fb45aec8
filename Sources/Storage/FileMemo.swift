#if canImport(Glibc)
import Glibc
#endif

/// The last file of one kind a process read, and what it made of it (`derive`): a policy
/// file parsed, a machine id hashed. The file is checked on every read with the rules for a
/// file read as root (symbolic link, kind, owner, mode, size); it is read again unless it is
/// the same file in the same settled state (`FileIdentity`), and derived again unless its
/// bytes differ, so nothing can be stale. One entry, behind a lock: a host may run PAM on
/// several threads (the module itself starts none).
///
/// A struct over storage allocated once (each memo is a process-wide `static let`, never
/// freed), and inlinable: every login reads both memos, and as a generic class each had its
/// metadata built at run time on a process's first login (with that of the Optional it
/// held), about a sixth of a fresh step-aside's instructions. Specialised in the module that
/// uses it, over plain pointers and no Optional of a generic type, it needs none
/// (docs/ARCHITECTURE.md, issue 17).
public struct FileMemo<Derived>: @unchecked Sendable {
    /// What was read last; `derived` is initialised exactly when `filled` is true.
    @usableFromInline
    struct Last {
        @usableFromInline var filled = false
        @usableFromInline var path = ""
        @usableFromInline var identity: FileIdentity? = nil
        @usableFromInline var bytes: [UInt8] = []

        @inlinable init() {}
    }

    @usableFromInline let lock: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let last: UnsafeMutablePointer<Last>
    @usableFromInline let derived: UnsafeMutablePointer<Derived>

    @inlinable
    public init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        last = .allocate(capacity: 1)
        last.initialize(to: Last())
        derived = .allocate(capacity: 1)
    }

    /// What `derive` makes of the file at `path` (at most `maxBytes`); nil when there is no
    /// such file (or no such directory).
    @inlinable
    public func read<E: Error>(_ path: String, maxBytes: Int,
                               derive: ([UInt8]) throws(E) -> Derived) throws(FileMemoError<E>) -> Derived? {
        let known = identity(path: path)
        let found: CheckedRead
        do {
            found = try SecureFile.read(path, maxBytes: maxBytes, unlessUnchanged: known)
        } catch .notFound {
            return nil
        } catch {
            throw .storage(error)
        }
        switch found {
        case .missing:
            return nil
        case .unchanged:
            // The entry whose identity the file still has, unless another thread replaced it
            // since: then read again (without an entry nothing is unchanged).
            if let kept = kept(path: path, identity: known, bytes: nil) { return kept }
            forget()
            return try read(path, maxBytes: maxBytes, derive: derive)
        case .content(let read):
            let result: Derived
            if let kept = kept(path: path, identity: nil, bytes: read.bytes) {
                result = kept
            } else {
                do { result = try derive(read.bytes) } catch { throw .derive(error) }
            }
            remember(path: path, identity: read.identity, bytes: read.bytes, derived: result)
            return result
        }
    }

    /// The identity the file at `path` had when it was last read.
    @inlinable
    func identity(path: String) -> FileIdentity? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return last.pointee.filled && last.pointee.path == path ? last.pointee.identity : nil
    }

    /// What was derived from `path` last, if it was read with `identity` (when given) and
    /// had `bytes` (when given).
    @inlinable
    func kept(path: String, identity: FileIdentity?, bytes: [UInt8]?) -> Derived? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard last.pointee.filled, last.pointee.path == path else { return nil }
        if let identity, last.pointee.identity != identity { return nil }
        if let bytes, last.pointee.bytes != bytes { return nil }
        return derived.pointee
    }

    @inlinable
    func remember(path: String, identity: FileIdentity, bytes: [UInt8], derived value: Derived) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if last.pointee.filled { derived.deinitialize(count: 1) }
        derived.initialize(to: value)
        last.pointee.filled = true
        last.pointee.path = path
        last.pointee.identity = identity
        last.pointee.bytes = bytes
    }

    @inlinable
    func forget() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if last.pointee.filled { derived.deinitialize(count: 1) }
        last.pointee = Last()
    }
}

/// Why `FileMemo.read` gave nothing: the file could not be trusted or read, or `derive`
/// refused its content.
public enum FileMemoError<E: Error>: Error {
    case storage(StorageError)
    case derive(E)
}
