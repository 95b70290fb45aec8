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
        let parsed: Parsed?
        do throws(FileMemoError<PolicyLoadError>) {
            parsed = try lastParsed.read(path, maxBytes: maxFileBytes) { (bytes: [UInt8]) throws(PolicyLoadError) in
                // ASCII, as policy files are, needs no validation: String(validating:) is
                // generic, and its first call builds metadata and witness tables at run time.
                let text: String
                if bytes.allSatisfy({ $0 < 0x80 }) {
                    text = String(decoding: bytes, as: UTF8.self)
                } else if let valid = String(validating: bytes, as: UTF8.self) {
                    text = valid
                } else {
                    throw .notText(path: path, byteOffset: firstInvalidUTF8Offset(bytes))
                }
                let (policy, warnings) = parse(text, source: path)
                return Parsed(policy: policy, warnings: warnings)
            }
        } catch {
            switch error {
            case .storage(let e): throw .unsafe(e)
            case .derive(let e): throw e
            }
        }
        // A missing file (or /etc/security): all defaults.
        guard let parsed else { return (Policy(source: "built-in defaults (\(path) does not exist)"), []) }
        return (parsed.policy, parsed.warnings)
    }

    /// What the memo keeps: a struct, not the tuple `load` returns, whose metadata the runtime
    /// would build (with an Array's) on a process's first login.
    struct Parsed {
        let policy: Policy
        let warnings: [PolicyWarning]
    }

    /// The last policy file parsed in this process: the login step and the append step of one
    /// transaction (and every later one in a long-lived process such as gdm) read the same
    /// file, and parse it again only when it changed.
    static let lastParsed = FileMemo<Parsed>()
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
