#if canImport(Glibc)
import Glibc
#endif

/// Which file a read saw, and in which state: device, inode, size, modification and change
/// times. A file with the same identity has the same content — provided nothing wrote to it
/// within the times' granularity (the kernel's clock tick, a second on some file systems) of
/// the read: `isSettled` says the file had not been touched for `settleSeconds` before it was
/// read, and only a settled identity may stand in for the content (the "racily clean" rule
/// git applies to its index).
public struct FileIdentity: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modified: Int64
    public let modifiedNanoseconds: Int64
    public let changed: Int64
    public let changedNanoseconds: Int64
    /// Not part of the identity: whether the file was quiet long enough before it was read.
    public let isSettled: Bool

    /// Far beyond any timestamp granularity Linux file systems have (FAT's is 2 s).
    public static let settleSeconds: Int64 = 3

    init(_ st: stat, now: Int64? = nil) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(st.st_mtim.tv_nsec)
        changed = Int64(st.st_ctim.tv_sec)
        changedNanoseconds = Int64(st.st_ctim.tv_nsec)
        if let now {
            // A time in the future (a clock set back) is never settled.
            isSettled = now - max(modified, changed) >= Self.settleSeconds
        } else {
            isSettled = false
        }
    }

    /// Whether `other` is the same file in the same state (`isSettled` aside).
    public func sameFile(as other: FileIdentity) -> Bool {
        device == other.device && inode == other.inode && size == other.size
            && modified == other.modified && modifiedNanoseconds == other.modifiedNanoseconds
            && changed == other.changed && changedNanoseconds == other.changedNanoseconds
    }

    public static func == (a: FileIdentity, b: FileIdentity) -> Bool { a.sameFile(as: b) }
}

/// What `SecureDirectory.read(_:maxBytes:unlessUnchanged:)` found.
public enum CheckedRead: Equatable, Sendable {
    /// No such file.
    case missing
    /// The file passed the checks and is the one `unlessUnchanged` named, in the same state:
    /// its content was not read again.
    case unchanged
    /// The file's content, and its identity as it was read.
    case content(ReadContent)
}

/// A file's content and its identity as it was read: a struct, not a tuple payload, whose
/// copies would go through tuple metadata the runtime builds on a process's first read.
public struct ReadContent: Equatable, Sendable {
    public let bytes: [UInt8]
    public let identity: FileIdentity

    public init(_ bytes: [UInt8], _ identity: FileIdentity) {
        self.bytes = bytes
        self.identity = identity
    }
}

func realtimeSeconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
}
