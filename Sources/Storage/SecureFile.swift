#if canImport(Glibc)
import Glibc
#endif

/// Single files read or written as root, by path: the directory is checked as
/// `SecureDirectory` checks it, the file as `SecureDirectory.read` does.
public enum SecureFile {
    /// The content of the file at `path`, or nil when the file does not exist (its directory
    /// must). See `SecureDirectory.read` for what is refused.
    public static func read(_ path: String, maxBytes: Int) throws(StorageError) -> [UInt8]? {
        let (directory, name) = try parent(of: path, pathOnly: true)
        return try directory.read(name, maxBytes: maxBytes)
    }

    /// The file at `path`, unless it is still the file `known` names, in the same state; see
    /// `SecureDirectory.read(_:maxBytes:unlessUnchanged:)`. Its directory must exist.
    public static func read(_ path: String, maxBytes: Int, unlessUnchanged known: FileIdentity?) throws(StorageError) -> CheckedRead {
        let (directory, name) = try parent(of: path, pathOnly: true)
        return try directory.read(name, maxBytes: maxBytes, unlessUnchanged: known)
    }

    /// Atomically replaces (or creates) the file at `path`; see `SecureDirectory.replace`.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(StorageError) {
        let (directory, name) = try parent(of: path)
        try directory.replace(name, with: bytes, mode: mode)
    }

    /// The checked directory `path` names a file of, and the file's name.
    /// With `pathOnly`, the directory is opened O_PATH: enough to open a file in it, and in a
    /// `sharingWalks` scope a later walk through it (to /etc/machine-id after
    /// /etc/security/pam_passkey.conf) starts there.
    private static func parent(of path: String, pathOnly: Bool = false) throws(StorageError) -> (SecureDirectory, String) {
        let parts = try SecureDirectory.components(path)
        guard let name = parts.last else { throw .invalidPath(path: path) }
        return (try SecureDirectory.walk(components: parts.dropLast(), createMode: nil, createParents: false, pathOnly: pathOnly), name)
    }
}
