#if canImport(Glibc)
import Glibc
#endif
import Storage

/// Why the policy file could not be used at all. The module then steps aside (never
/// succeeds): the administrator's intent is unknown, and guessing it could widen access.
public enum PolicyLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Refused by the root-file checks (symlink, owner, mode, size) or unreadable.
    case unsafe(StorageError)
    /// Not UTF-8 text, so not a `key = value` file.
    case notText(path: String, byteOffset: Int)

    public var description: String {
        switch self {
        case .unsafe(let e): return "policy file: \(e)"
        case .notText(let p, let offset):
            return "policy file \(p) is not UTF-8 text (invalid byte at offset \(offset)); fix: rewrite it as plain text"
        }
    }
}

extension Policy {
    /// Far beyond any real policy (all keys with comments fit in a few KiB).
    public static let maxFileBytes = 64 << 10

    /// The system's policy file: the module's default (`conf=` names another), passkeyctl's
    /// (`--conf`), and the only one the setuid helper reads for a caller that is not root.
    public static let systemPath = "/etc/security/pam_passkey.conf"

    /// Reads and parses the policy file (`conf=` module argument, or
    /// /etc/security/pam_passkey.conf), checked like every file read as root: no symbolic
    /// link, owned by root, not writable by group or others, in directories that are the
    /// same, at most 64 KiB.
    ///
    /// A file that does not exist (or whose directory does not) means all defaults, with no
    /// warning: a fresh install runs on the defaults, which are the safe choice. A file that exists but cannot be trusted
    /// or read is an error. Unknown keys and bad values are warnings (with file and line);
    /// the default applies to them.
    public static func load(path: String) throws(PolicyLoadError) -> (Policy, [PolicyWarning]) {
        try load(path: path, memo: ParsedPolicyMemo.shared.entry(path: path))
    }

    private static func load(path: String, memo: ParsedPolicyMemo.Entry?) throws(PolicyLoadError) -> (Policy, [PolicyWarning]) {
        let found: CheckedRead
        do {
            found = try SecureFile.read(path, maxBytes: maxFileBytes, unlessUnchanged: memo?.identity)
        } catch .notFound {
            // Its directory is missing (no /etc/security): no file either.
            found = .missing
        } catch {
            throw .unsafe(error)
        }
        switch found {
        case .missing:
            return (Policy(source: "built-in defaults (\(path) does not exist)"), [])
        case .unchanged:
            // `memo` is the entry whose identity the file still has.
            if let memo { return memo.parsed }
            // Not reached (without an identity nothing is unchanged); read it, then.
            return try load(path: path, memo: nil)
        case .content(let bytes, let identity):
            if let memo, memo.bytes == bytes {
                ParsedPolicyMemo.shared.remember(.init(path: path, identity: identity, bytes: bytes, parsed: memo.parsed))
                return memo.parsed
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .notText(path: path, byteOffset: firstInvalidUTF8Offset(bytes))
            }
            let parsed = parse(text, source: path)
            ParsedPolicyMemo.shared.remember(.init(path: path, identity: identity, bytes: bytes, parsed: parsed))
            return parsed
        }
    }
}

/// The last policy file parsed in this process: its path, the identity (`FileIdentity`) and
/// content it had when read, and what parsing gave. The login step and the append step of
/// one transaction (and every later one in a long-lived process such as gdm) read the same
/// file. The file is checked on every load (symbolic link, owner, mode, size: the rules for
/// a file read as root); it is read again unless it is the same file in the same settled
/// state, and parsed again unless its bytes differ — a changed file (one byte) is parsed
/// again and nothing can be stale. One entry, behind a lock: a host may run PAM on several
/// threads.
final class ParsedPolicyMemo: @unchecked Sendable {
    static let shared = ParsedPolicyMemo()

    struct Entry {
        let path: String
        let identity: FileIdentity
        let bytes: [UInt8]
        let parsed: (Policy, [PolicyWarning])
    }

    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var last: Entry? = nil

    private init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    /// The entry for `path`, if the last file parsed was that one.
    func entry(path: String) -> Entry? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard let last, last.path == path else { return nil }
        return last
    }

    func remember(_ entry: Entry) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        last = entry
    }

    /// Forgets the entry (tests).
    func clear() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        last = nil
    }
}

private func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
    var parser = Unicode.UTF8.ForwardParser()
    var input = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &input) {
        case .valid(let scalar): offset += scalar.count
        case .error: return offset
        case .emptyInput: return offset
        }
    }
}
