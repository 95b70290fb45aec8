#if canImport(Glibc)
import Glibc
#endif

/// Single files read or written as root, by path: the directory is checked as
/// `SecureDirectory` checks it, the file as `SecureDirectory.read` does.
public enum SecureFile {
    /// The content of the file at `path`, or nil when the file does not exist (its directory
    /// must). See `SecureDirectory.read` for what is refused.
    public static func read(_ path: String, maxBytes: Int) throws(StorageError) -> [UInt8]? {
        let (directory, name) = try parent(of: path)
        return try directory.read(name, maxBytes: maxBytes)
    }

    /// Atomically replaces (or creates) the file at `path`; see `SecureDirectory.replace`.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(StorageError) {
        let (directory, name) = try parent(of: path)
        try directory.replace(name, with: bytes, mode: mode)
    }

    /// The checked directory `path` names a file of, and the file's name.
    private static func parent(of path: String) throws(StorageError) -> (SecureDirectory, String) {
        let parts = try SecureDirectory.components(path)
        guard let name = parts.last else { throw .invalidPath(path: path) }
        return (try SecureDirectory.walk(components: parts.dropLast(), createMode: nil, createParents: false), name)
    }
}
