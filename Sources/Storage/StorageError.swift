#if canImport(Glibc)
import Glibc
import Identifiers
#endif

/// What kind of object a path turned out to be, for error messages.
public enum FileKind: String, Sendable {
    case regularFile = "a regular file"
    case directory = "a directory"
    case symbolicLink = "a symbolic link"
    case fifo = "a FIFO"
    case socket = "a socket"
    case characterDevice = "a character device"
    case blockDevice = "a block device"
    case unknown = "an unknown kind of file"

    init(mode: mode_t) {
        switch mode & 0o170000 {
        case 0o100000: self = .regularFile
        case 0o040000: self = .directory
        case 0o120000: self = .symbolicLink
        case 0o010000: self = .fifo
        case 0o140000: self = .socket
        case 0o020000: self = .characterDevice
        case 0o060000: self = .blockDevice
        default: self = .unknown
        }
    }
}

/// Why a state file or directory was refused or could not be read or written. Every case
/// names the path; where an administrator must act, the description says what to run.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Paths must be absolute, without `..`, and without NUL.
    case invalidPath(path: String)
    case notFound(path: String)
    /// A symbolic link where a file or directory read as root is expected.
    case symbolicLink(path: String)
    case wrongKind(path: String, found: FileKind, expected: FileKind)
    /// Owned by someone other than root (or, for a process that is not root, itself).
    case wrongOwner(path: String, uid: UInt32, allowed: [UInt32])
    /// Group- or world-writable (a directory: unless sticky and owned by root).
    case writableByOthers(path: String, mode: UInt32, kind: FileKind)
    /// A secret file (authenticator key material, the host secret) that group or others can
    /// read, write or execute: only its owner may have any access (`SecretFiles`).
    case secretNotPrivate(path: String, mode: UInt32)
    case tooLarge(path: String, size: Int, limit: Int)
    /// The lock beside `path` was held by another process for the whole wait.
    case lockTimeout(path: String, milliseconds: Int)
    /// A system call failed for a reason not covered above.
    case system(path: String, operation: String, errno: Int32)
    /// The file is not a document of the expected form (bad JSON, missing fields, bad text).
    case malformed(path: String, reason: String)
    /// Written by a newer (or unknown) version of pam_passkey: never guessed at, never rewritten.
    case unsupportedSchema(path: String, found: Int, newestKnown: Int)
    /// A record inside the file of another user: using it would give one user another's keys.
    case userMismatch(path: String, expected: String, found: String)

    public var path: String {
        switch self {
        case .invalidPath(let p), .notFound(let p), .symbolicLink(let p), .wrongKind(let p, _, _),
             .wrongOwner(let p, _, _), .writableByOthers(let p, _, _), .secretNotPrivate(let p, _), .tooLarge(let p, _, _),
             .lockTimeout(let p, _), .system(let p, _, _), .malformed(let p, _),
             .unsupportedSchema(let p, _, _), .userMismatch(let p, _, _):
            return p
        }
    }

    public var description: String {
        switch self {
        case .invalidPath(let p):
            return "\(escapedForLog(p)) is not an absolute path without \"..\"; fix: configure the full path"
        case .notFound(let p):
            return "\(p) does not exist"
        case .symbolicLink(let p):
            return "\(p) is a symbolic link; pam_passkey does not follow links in the files and directories it "
                + "reads as root; fix: replace the link with the real file or directory, or configure the real path "
                + "(readlink -f \(p))"
        case .wrongKind(let p, let found, let expected):
            return "\(p) is \(found.rawValue), not \(expected.rawValue); fix: replace it with \(expected.rawValue)"
        case .wrongOwner(let p, let uid, let allowed):
            let who = allowed == [0] ? "root" : "root or uid " + allowed.filter { $0 != 0 }.map(String.init).joined(separator: ", ")
            return "\(p) is owned by uid \(uid), not by \(who); anyone who owns it decides what pam_passkey reads; "
                + "fix: chown root:root \(p)"
        case .writableByOthers(let p, let mode, let kind):
            let what = kind == .directory
                ? "is a directory writable by group or others (mode \(octal(mode))), so they could replace what is in it"
                : "is writable by group or others (mode \(octal(mode)))"
            return "\(p) \(what); fix: chmod go-w \(p)"
        case .secretNotPrivate(let p, let mode):
            let (read, write) = (mode & 0o044 != 0, mode & 0o022 != 0)
            let how = read && write ? "readable and writable" : read ? "readable" : write ? "writable" : "accessible"
            return "\(p) holds authenticator secrets and is \(how) by group or others (mode \(octal(mode))), "
                + "so it is not used (a copy of it helps an offline search for the PIN); fix: chmod go-rwx \(p)"
        case .tooLarge(let p, let size, let limit):
            return "\(p) is \(size) bytes, more than the \(limit) accepted; pam_passkey never writes one that large: "
                + "inspect it and restore it from a backup"
        case .lockTimeout(let p, let ms):
            return "\(p) stayed locked for \(ms) ms by another process updating the same record; if nothing is "
                + "running, check for a hung passkeyctl or, on NFS, a lock manager that does not answer"
        case .system(let p, let op, let code):
            var hint = ""
            if code == ENOLCK { hint = "; the file system does not support locks (an NFS mount with nolock?)" }
            if code == EACCES || code == EPERM { hint = "; pam_passkey must run as root to use its state" }
            if code == EROFS { hint = "; the file system is mounted read-only" }
            if code == ENOSPC || code == EDQUOT { hint = "; free some space on that file system" }
            return "\(op) \(p): \(errnoText(code))\(hint)"
        case .malformed(let p, let reason):
            return "\(p) is not a valid pam_passkey file: \(reason); fix: repair it by hand or restore it from a backup "
                + "(it is left untouched)"
        case .unsupportedSchema(let p, let found, let newest):
            return "\(p) has schema version \(found); this pam_passkey understands versions 1 to \(newest); "
                + "fix: upgrade pam_passkey on this host (the file was written by a newer version); it is left untouched"
        case .userMismatch(let p, let expected, let found):
            return "\(p) holds the record of \(escapedForLog(found)), not of \(escapedForLog(expected)); a record is "
                + "only used from the file named after its user; fix: move it back to the file of its own user"
        }
    }
}

func octal(_ mode: UInt32) -> String {
    let s = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

func errnoText(_ code: Int32) -> String {
    guard let p = strerror(code) else { return "errno \(code)" }
    return String(cString: p) + " (errno \(code))"
}
