#if canImport(Glibc)
import Glibc
#endif

/// Secret files: what a host authenticator keeps about its keys. The software backend's host
/// secret and the keyrings of every backend (sealed private keys, TPM key blobs, wrong-PIN
/// counters) all live under `state_dir/authenticator`, written 0600 in 0700 directories.
///
/// The rule, checked here for all of them: a secret file is used only when it is a regular
/// file owned by root (as every state file) and nobody else has any access to it. Readable by
/// group or others is refused like writable (`StorageError.secretNotPrivate`, which names the
/// file and the fix): the host secret and a keyring are all an offline search for a PIN needs.
/// Reading goes through `SecureDirectory.read(_, maxBytes:, secret: true)` (keyrings are a
/// `DocumentStore` with `secret: true`); `checkSecret` looks without reading; `audit` is
/// every file at once, for `passkeyctl status`.
public enum SecretFiles {
    /// The part of `state_dir` that holds secret files only (and their lock files).
    public static let directoryName = "authenticator"

    /// `state_dir/authenticator`.
    public static func directory(in stateDirectory: String) -> String {
        let base = stateDirectory.count > 1 && stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
        return (base == "/" ? "" : base) + "/" + directoryName
    }

    /// Whatever below `state_dir/authenticator` would be refused, file by file (subdirectories
    /// of the backends included, `maxDepth` levels down); empty when all is well or there is no
    /// such directory yet. A directory that cannot be opened safely is one finding.
    public static func audit(stateDirectory: String, maxDepth: Int = 2) -> [StorageError] {
        let top = directory(in: stateDirectory)
        let dir: SecureDirectory
        do {
            dir = try SecureDirectory.open(top)
        } catch .notFound(let missing) where missing == top {
            return []
        } catch {
            return [error]
        }
        var problems: [StorageError] = []
        audit(dir, depth: maxDepth, into: &problems)
        return problems
    }

    private static func audit(_ dir: SecureDirectory, depth: Int, into problems: inout [StorageError]) {
        let names: [String]
        do { names = try dir.allEntries() } catch {
            problems.append(error)
            return
        }
        for name in names.sorted() {
            let full = dir.path(of: name)
            var st = stat()
            guard fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno != ENOENT { problems.append(.system(path: full, operation: "fstatat", errno: errno)) }
                continue
            }
            switch FileKind(mode: st.st_mode) {
            case .directory where depth > 0:
                do { audit(try SecureDirectory.open(full), depth: depth - 1, into: &problems) } catch { problems.append(error) }
            case .symbolicLink:
                problems.append(.symbolicLink(path: full))
            default:
                do { try SecureDirectory.checkSecretFile(st, full) } catch { problems.append(error) }
            }
        }
    }
}

extension SecureDirectory {
    /// Whether the secret file `name` exists; throws what `read(_, secret: true)` would refuse
    /// it for, without reading it.
    public func checkSecret(_ name: String) throws(StorageError) -> Bool {
        let full = path(of: name)
        try Self.checkName(name, full)
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return false }
            throw .system(path: full, operation: "fstatat", errno: errno)
        }
        if FileKind(mode: st.st_mode) == .symbolicLink { throw .symbolicLink(path: full) }
        try Self.checkSecretFile(st, full)
        return true
    }

    /// `checkFile`, and no access at all for group or others.
    static func checkSecretFile(_ st: stat, _ path: String) throws(StorageError) {
        let kind = FileKind(mode: st.st_mode)
        guard kind == .regularFile else { throw .wrongKind(path: path, found: kind, expected: .regularFile) }
        guard isTrustedOwner(st.st_uid) else { throw .wrongOwner(path: path, uid: st.st_uid, allowed: trustedOwners) }
        guard st.st_mode & 0o077 == 0 else { throw .secretNotPrivate(path: path, mode: st.st_mode & 0o7777) }
    }
}
