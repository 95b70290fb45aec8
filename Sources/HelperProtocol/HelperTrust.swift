#if canImport(Glibc)
import Glibc
#endif

/// Whether a program may be started as the helper: it runs as root with whatever it is
/// given, so neither it nor any directory on its path may be replaceable by anyone but root.
/// One rule, whoever asks — the module before every spawn, passkeyctl status — and whoever
/// loaded the module: a file owned by the calling user is not root's, even when that user
/// is the one running the PAM application.
public enum HelperTrust {
    /// What makes `path` unfit to start as root, with the fix; nil when it is fit.
    public static func problem(_ path: String) -> HelperLaunchError? {
        guard path.hasPrefix("/") else { return .notAbsolute(path) }
        var st = stat()
        guard lstat(path, &st) == 0 else { return .missing(path) }
        let mode = UInt32(st.st_mode)
        guard mode & UInt32(S_IFMT) == UInt32(S_IFREG) else {
            return .unsafe(path, reason: "\(path) is not a regular file (a link or something else); install the helper program itself there")
        }
        guard st.st_uid == 0 else { return .unsafe(path, reason: "\(path) is owned by uid \(st.st_uid), not root; chown root:root \(path)") }
        guard mode & 0o022 == 0 else {
            return .unsafe(path, reason: "\(path) is writable by group or others (mode \(octalMode(mode))); chmod go-w \(path)")
        }
        guard mode & 0o111 != 0 else { return .unsafe(path, reason: "\(path) is not executable; chmod 0755 \(path)") }
        var dir = path
        while let slash = dir.lastIndex(of: "/") {
            dir = slash == dir.startIndex ? "/" : String(dir[..<slash])
            guard stat(dir, &st) == 0 else { return .missing(path) }
            let sticky = st.st_mode & S_ISVTX != 0
            guard st.st_uid == 0 else {
                return .unsafe(path, reason: "directory \(dir) is owned by uid \(st.st_uid), not root; chown root \(dir)")
            }
            guard st.st_mode & 0o022 == 0 || sticky else {
                return .unsafe(path, reason: "directory \(dir) is writable by group or others; chmod go-w \(dir)")
            }
            if dir == "/" { break }
        }
        return nil
    }

    static func octalMode(_ mode: UInt32) -> String {
        let bits = mode & 0o7777
        var digits = ""
        var n = bits
        repeat { digits = String(n % 8) + digits; n /= 8 } while n > 0
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
