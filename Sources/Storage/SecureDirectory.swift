#if canImport(Glibc)
import Glibc
import Identifiers
#endif

// Glibc's module map hides O_PATH (it needs _GNU_SOURCE); the value is the same on every
// Linux architecture Swift supports.
let openPath: Int32 = 0o10000000

/// A directory reached from `/` one component at a time with `O_NOFOLLOW`, each component
/// checked before the next is opened: no symbolic link anywhere on the path, every directory
/// owned by root and not writable by group or others (unless sticky and owned by root, as
/// /tmp is). Files are then opened relative to this descriptor, so nothing can be swapped in
/// between the check and the use.
///
/// When the process is not root (tests, a user's own tools), the process's own uid is trusted
/// as an owner too; as root only root is.
public final class SecureDirectory {
    /// The path as given, without a trailing slash.
    public let path: String
    let fd: Int32
    /// Opened O_PATH: a directory to open, stat and check entries relative to, but not one to
    /// fsync (writes need a directory `open` or `create` returned). Only `SecureFile` asks
    /// for one, for the directory of the file it reads.
    let pathOnly: Bool

    init(path: String, fd: Int32, pathOnly: Bool = false) {
        self.path = path
        self.fd = fd
        self.pathOnly = pathOnly
    }

    deinit { close(fd) }

    /// Opens an existing directory, refusing it (or any directory above it) when unsafe.
    public static func open(_ path: String) throws(StorageError) -> SecureDirectory {
        try walk(path, createMode: nil, createParents: false)
    }

    /// Opens the directory, creating what is missing: the last component with `mode`, missing
    /// parents (when `parents` is set) with 0755, both exactly, whatever the umask. Existing
    /// directories are checked as `open` checks them and left as they are, never chmodded or
    /// chowned: an unsafe directory is an error to look into, not to paper over (something
    /// may have been planted while it was open). For installers and tests: registries use
    /// 0755, host state 0700.
    @discardableResult
    public static func create(_ path: String, mode: mode_t, parents: Bool = true) throws(StorageError) -> SecureDirectory {
        try walk(path, createMode: mode & 0o7777, createParents: parents)
    }

    /// The path of an entry of this directory.
    public func path(of name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    // MARK: - Reading

    /// The content of the regular file `name`, or nil when there is none. Refused: a symbolic
    /// link, anything but a regular file, a file not owned by root, a file writable by group
    /// or others, a file larger than `maxBytes`; with `secret`, also a file that group or
    /// others can read (see `SecretFiles`).
    public func read(_ name: String, maxBytes: Int, secret: Bool = false) throws(StorageError) -> [UInt8]? {
        var identity: FileIdentity? = nil
        return try read(name, maxBytes: maxBytes, secret: secret, identity: &identity)
    }

    /// `read`, for a file read again and again by one process (the policy file, the machine
    /// id): when `known` is a settled identity (see `FileIdentity`), the file is checked
    /// without being opened — `fstatat` with AT_SYMLINK_NOFOLLOW, then the same refusals as
    /// `read` (a symbolic link, not a regular file, not owned by root, writable by group or
    /// others, too large) — and when it is still that file in that state, `.unchanged` says
    /// so instead of reading it. Otherwise it is opened and read as `read` does.
    public func read(_ name: String, maxBytes: Int, unlessUnchanged known: FileIdentity?) throws(StorageError) -> CheckedRead {
        let full = path(of: name)
        if let known, known.isSettled {
            try Self.checkName(name, full)
            var st = stat()
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                let code = errno
                if code == ENOENT { return .missing }
                throw .system(path: full, operation: "fstatat", errno: code)
            }
            if FileKind(mode: st.st_mode) == .symbolicLink { throw .symbolicLink(path: full) }
            try Self.checkFile(st, full)
            if Int(st.st_size) > maxBytes { throw .tooLarge(path: full, size: Int(st.st_size), limit: maxBytes) }
            if FileIdentity(st).sameFile(as: known) { return .unchanged }
        }
        var identity: FileIdentity? = nil
        guard let bytes = try read(name, maxBytes: maxBytes, secret: false, identity: &identity), let identity else {
            return .missing
        }
        return .content(ReadContent(bytes, identity))
    }

    private func read(_ name: String, maxBytes: Int, secret: Bool, identity: inout FileIdentity?) throws(StorageError) -> [UInt8]? {
        let full = path(of: name)
        try Self.checkName(name, full)
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        if file < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw classifyOpenFailure(code, name: name, path: full, expected: .regularFile, operation: "open")
        }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0 else { throw .system(path: full, operation: "fstat", errno: errno) }
        if secret { try Self.checkSecretFile(st, full) } else { try Self.checkFile(st, full) }
        if Int(st.st_size) > maxBytes { throw .tooLarge(path: full, size: Int(st.st_size), limit: maxBytes) }
        // Taken before the read: a write during it changes the times, so this identity then
        // names a state the file is no longer in.
        identity = FileIdentity(st, now: realtimeSeconds())

        // Read one byte past the size fstat gave, growing up to one byte past the limit: the
        // file may have grown since fstat.
        var buffer = [UInt8](repeating: 0, count: min(Int(st.st_size), maxBytes) + 1)
        var total = 0
        while total <= maxBytes {
            if total == buffer.count { buffer += [UInt8](repeating: 0, count: min(buffer.count, maxBytes + 1 - buffer.count)) }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(path: full, operation: "read", errno: errno)
            }
            if n == 0 { break }
            total += n
        }
        if total > maxBytes { throw .tooLarge(path: full, size: total, limit: maxBytes) }
        buffer.removeSubrange(total...)
        return buffer
    }

    /// The names in this directory, except `.`, `..` and dot-files (locks, temporary files).
    /// Names that are not valid UTF-8 are returned repaired (with U+FFFD), which no
    /// `UserName` accepts.
    public func entries() throws(StorageError) -> [String] {
        try allEntries().filter { !$0.hasPrefix(".") }
    }

    /// Every name in this directory but `.` and `..`.
    func allEntries() throws(StorageError) -> [String] {
        // A fresh open file description: a dup would share (and move) the offset of `fd`.
        let listing = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0 else { throw .system(path: path, operation: "open", errno: errno) }
        guard let dir = fdopendir(listing) else {
            let code = errno
            close(listing)
            throw .system(path: path, operation: "fdopendir", errno: code)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw .system(path: path, operation: "readdir", errno: errno) }
                break
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    // MARK: - Writing

    /// Replaces (or creates) `name` atomically: a temporary file in this directory is
    /// written in full and fsynced, renamed over `name`, and the directory fsynced. A reader
    /// sees the old content or the new, never a mix; after a crash the file is one or the
    /// other. On any error the temporary file is removed and `name` is untouched.
    ///
    /// Without the lock of `name`, concurrent writers do not corrupt the file, but the last
    /// rename wins; use `withLock` for read-modify-write.
    public func replace(_ name: String, with bytes: [UInt8], mode: mode_t) throws(StorageError) {
        try Self.checkName(name, path(of: name))
        var attempt = 0
        while true {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            let temp = ".\(name).\(getpid()).\(ts.tv_nsec).tmp"
            do {
                try write(bytes, to: name, through: temp, mode: mode, replaceStaleTemp: false)
                return
            } catch .system(_, "create", EEXIST) where attempt < 10 {
                attempt += 1
            }
        }
    }

    /// `temp` is created exclusively; `replaceStaleTemp` is for callers holding the lock of
    /// `name`, for whom an existing `temp` can only be left by a writer that died.
    func write(_ bytes: [UInt8], to name: String, through temp: String, mode: mode_t,
               replaceStaleTemp: Bool) throws(StorageError) {
        let full = path(of: name)
        let tempPath = path(of: temp)
        var file = openat(fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0o7777)
        if file < 0 && errno == EEXIST && replaceStaleTemp {
            unlinkat(fd, temp, 0)
            file = openat(fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0o7777)
        }
        guard file >= 0 else { throw .system(path: tempPath, operation: "create", errno: errno) }
        var open = true
        defer { if open { close(file) } }
        do throws(StorageError) {
            // The umask may have taken bits away; the mode is part of the contract.
            guard fchmod(file, mode & 0o7777) == 0 else { throw .system(path: tempPath, operation: "fchmod", errno: errno) }
            try ownedByRoot(file, tempPath)
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(file, $0.baseAddress! + written, $0.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .system(path: tempPath, operation: "write", errno: errno)
                }
                written += n
            }
            guard fsync(file) == 0 else { throw .system(path: tempPath, operation: "fsync", errno: errno) }
            open = false
            // close can report a delayed write error (NFS): a file that failed must not be renamed.
            guard close(file) == 0 else { throw .system(path: tempPath, operation: "close", errno: errno) }
            guard renameat(fd, temp, fd, name) == 0 else { throw .system(path: full, operation: "rename", errno: errno) }
        } catch {
            unlinkat(fd, temp, 0)
            throw error
        }
        // The rename is durable only once the directory is; the new content is in place either
        // way. EINVAL: a file system that cannot sync directories (it has nothing to add).
        guard fsync(fd) == 0 || errno == EINVAL else { throw .system(path: path, operation: "fsync", errno: errno) }
    }

    // MARK: - Checks

    /// The uids trusted to own state: root only. A process that is not root (a screen locker)
    /// reads the same root-owned files as login does; a file owned by whoever runs it is not
    /// trusted for being theirs (the rule does not depend on who loaded the module).
    static let trustedOwners: [UInt32] = [0]

    static func checkName(_ name: String, _ full: String) throws(StorageError) {
        // By bytes: "/" and NUL are ASCII, and this runs for every file a login opens.
        let utf8 = name.utf8
        if utf8.isEmpty || name == "." || name == ".." || utf8.contains(UInt8(ascii: "/")) || utf8.contains(0) {
            throw .invalidPath(path: full)
        }
    }

    /// Whether `uid` is one of `trustedOwners`.
    static func isTrustedOwner(_ uid: uid_t) -> Bool { uid == 0 }

    static func checkFile(_ st: stat, _ path: String) throws(StorageError) {
        let kind = FileKind(mode: st.st_mode)
        guard kind == .regularFile else { throw .wrongKind(path: path, found: kind, expected: .regularFile) }
        guard isTrustedOwner(st.st_uid) else { throw .wrongOwner(path: path, uid: st.st_uid, allowed: trustedOwners) }
        guard st.st_mode & 0o022 == 0 else { throw .writableByOthers(path: path, mode: st.st_mode & 0o7777, kind: kind) }
    }

    static func checkDirectory(_ st: stat, _ path: String) throws(StorageError) {
        let kind = FileKind(mode: st.st_mode)
        guard kind == .directory else { throw .wrongKind(path: path, found: kind, expected: .directory) }
        guard isTrustedOwner(st.st_uid) else { throw .wrongOwner(path: path, uid: st.st_uid, allowed: trustedOwners) }
        // A sticky directory owned by root (/tmp) lets others add entries but not replace ours.
        let sticky = st.st_mode & 0o1000 != 0 && st.st_uid == 0
        guard st.st_mode & 0o022 == 0 || sticky else {
            throw .writableByOthers(path: path, mode: st.st_mode & 0o7777, kind: kind)
        }
    }

    /// Turns a failed `openat(…, O_NOFOLLOW)` into the error that says what is there.
    func classifyOpenFailure(_ code: Int32, name: String, path: String, expected: FileKind,
                             operation: String) -> StorageError {
        Self.classify(code, parent: fd, name: name, path: path, expected: expected, operation: operation)
    }

    static func classify(_ code: Int32, parent: Int32, name: String, path: String, expected: FileKind,
                         operation: String) -> StorageError {
        if code == ENOENT { return .notFound(path: path) }
        if code == ELOOP || code == ENOTDIR {
            var st = stat()
            if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
                let kind = FileKind(mode: st.st_mode)
                if kind == .symbolicLink { return .symbolicLink(path: path) }
                if kind != expected { return .wrongKind(path: path, found: kind, expected: expected) }
            }
        }
        return .system(path: path, operation: operation, errno: code)
    }

    static func components(_ path: String) throws(StorageError) -> [String] {
        // One pass over the bytes (every login splits its policy, machine-id and registry
        // paths): empty and "." components are skipped, ".." and NUL refused.
        let bytes = Array(path.utf8)
        guard bytes.first == UInt8(ascii: "/") else { throw .invalidPath(path: path) }
        var parts: [String] = []
        var start = 0
        for end in 0...bytes.count {
            if end < bytes.count {
                if bytes[end] == 0 { throw .invalidPath(path: path) }
                if bytes[end] != UInt8(ascii: "/") { continue }
            }
            let length = end - start
            defer { start = end + 1 }
            if length == 0 || (length == 1 && bytes[start] == UInt8(ascii: ".")) { continue }
            if length == 2 && bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: ".") {
                throw .invalidPath(path: path)
            }
            parts.append(String(decoding: bytes[start..<end], as: UTF8.self))
        }
        return parts
    }

    static func walk(_ path: String, createMode: mode_t?, createParents: Bool) throws(StorageError) -> SecureDirectory {
        try walk(components: try components(path)[...], createMode: createMode, createParents: createParents)
    }

    /// `walk` for a path already split by `components`. With `pathOnly`, the last directory
    /// is opened O_PATH too (enough to read a file in it).
    static func walk(components parts: ArraySlice<String>, createMode: mode_t?, createParents: Bool,
                     pathOnly: Bool = false) throws(StorageError) -> SecureDirectory {
        let shared = WalkSharing.current
        // The directory reached so far (nil: none yet), and how many components it covers.
        var reached: SecureDirectory? = nil
        var start = 0
        if let shared {
            // Start at the deepest directory this scope has already checked: the whole path
            // when an earlier walk in the scope ended there (opened as this walk needs it).
            var prefix = ""
            for (depth, name) in zip(0..., parts) {
                prefix += "/" + name
                guard let kept = shared.directories[prefix] else { break }
                if depth == parts.count - 1 && kept.pathOnly && !pathOnly { break }
                (reached, start) = (kept, depth + 1)
            }
            if reached == nil, let root = shared.directories["/"], !parts.isEmpty || pathOnly || !root.pathOnly {
                reached = root
            }
            if let reached, start == parts.count { return reached }
        }
        // The path reached so far, "" for the root (each component adds "/" and its name).
        var current = reached.map { $0.path == "/" ? "" : $0.path } ?? ""
        if reached == nil {
            // Intermediate directories are opened O_PATH (no read permission needed, nothing
            // read); the last one O_RDONLY, for fsync and listing, unless `pathOnly`.
            let rootPathOnly = !parts.isEmpty || pathOnly
            let fd = Glibc.open("/", (rootPathOnly ? openPath : O_RDONLY) | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw .system(path: "/", operation: "open", errno: errno) }
            let root = SecureDirectory(path: "/", fd: fd, pathOnly: rootPathOnly)
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw .system(path: "/", operation: "fstat", errno: errno) }
            try checkDirectory(st, "/")
            shared?.directories["/"] = root
            reached = root
        }
        guard var dir = reached else { throw .system(path: "/", operation: "open", errno: EBADF) }
        var st = stat()
        for index in start..<parts.count {
            let name = parts[parts.startIndex + index]
            current += "/" + name
            let isLast = index == parts.count - 1
            let openedPathOnly = !isLast || pathOnly
            let flags = (openedPathOnly ? openPath : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
            var next = openat(dir.fd, name, flags)
            if next < 0 && errno == ENOENT, let mode = createMode, isLast || createParents {
                let m = isLast ? mode : 0o755
                if mkdirat(dir.fd, name, m) == 0 {
                    // Whatever the umask: the parent was checked, so nobody else can have
                    // swapped the new directory for a link in between.
                    fchmodat(dir.fd, name, m, 0)
                    if geteuid() == 0 { _ = fchownat(dir.fd, name, 0, 0, AT_SYMLINK_NOFOLLOW) }
                } else if errno != EEXIST {
                    throw .system(path: current, operation: "mkdir", errno: errno)
                }
                next = openat(dir.fd, name, flags)
            }
            if next < 0 {
                throw classify(errno, parent: dir.fd, name: name, path: current, expected: .directory, operation: "open")
            }
            // Closed when the last reference goes: at once when unsafe, else with the scope
            // (or with the caller, for the last one).
            let opened = SecureDirectory(path: current, fd: next, pathOnly: openedPathOnly)
            guard fstat(next, &st) == 0 else { throw .system(path: current, operation: "fstat", errno: errno) }
            try checkDirectory(st, current)
            shared?.directories[current] = opened
            dir = opened
        }
        return dir
    }

    /// Runs `body` with the walks it makes on this thread sharing the directories they
    /// checked: a walk starts below the deepest one an earlier walk in the scope already
    /// opened and checked, or ends there when that is the directory it walks to (each is
    /// still opened O_NOFOLLOW and checked once, and stays open, so it cannot be swapped
    /// afterwards). The module wraps each PAM call in one scope: its policy file, host id,
    /// registry and history share /etc or /var/lib, and the registry's directory is walked
    /// to once. Nothing outlives the scope but a directory its caller still holds (which
    /// closes when the caller lets it go); nested scopes share the outer one.
    public static func sharingWalks<R>(_ body: () -> R) -> R {
        // Without a thread key (the host used up PTHREAD_KEYS_MAX) every walk starts at "/":
        // slower, as safe.
        guard let walkSharingKey else { return body() }
        if WalkSharing.current != nil { return body() }
        let shared = WalkSharing()
        pthread_setspecific(walkSharingKey, Unmanaged.passUnretained(shared).toOpaque())
        defer { pthread_setspecific(walkSharingKey, nil) }
        return withExtendedLifetime(shared) { body() }
    }
}

/// The directories the current `sharingWalks` scope has checked, by path. Each closes its
/// descriptor when the last reference to it goes.
final class WalkSharing {
    var directories = CheckedDirectories()

    /// This thread's scope, if any. Per thread: an application may run PAM calls on several.
    static var current: WalkSharing? {
        guard let walkSharingKey else { return nil }
        return pthread_getspecific(walkSharingKey).map { Unmanaged<WalkSharing>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// A handful of paths and their directories (a login walks to five or six): two arrays
/// searched in order, cheaper than hashing each path into a Dictionary.
struct CheckedDirectories {
    private var paths: [String] = []
    private var directories: [SecureDirectory] = []

    subscript(_ path: String) -> SecureDirectory? {
        get { paths.firstIndex(of: path).map { directories[$0] } }
        set {
            if let i = paths.firstIndex(of: path) {
                if let dir = newValue { directories[i] = dir } else { paths.remove(at: i); directories.remove(at: i) }
            } else if let dir = newValue {
                paths.append(path)
                directories.append(dir)
            }
        }
    }
}

/// nil when the host process has no thread key left to give: the module then shares nothing,
/// rather than stopping the program it runs in.
private let walkSharingKey: pthread_key_t? = {
    var key = pthread_key_t()
    return pthread_key_create(&key, nil) == 0 ? key : nil
}()

/// Files and directories made as root are root:root, whatever group the process has: setuid
/// programs (su, sudo) run with the caller's group, and login has switched to the user's by
/// pam_setcred. A file that took that group would keep it after the account is gone.
func ownedByRoot(_ file: Int32, _ path: String) throws(StorageError) {
    guard geteuid() == 0 else { return }
    guard fchown(file, 0, 0) == 0 else { throw .system(path: path, operation: "fchown", errno: errno) }
}
