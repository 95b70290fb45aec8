#if canImport(Glibc)
import Glibc
#endif

// Removing and renaming entries of a checked directory: what a queue of files needs (the
// directory registry's queue of writes, Registry/WriteQueue.swift). Both act on names
// relative to the checked descriptor, never on paths.
extension SecureDirectory {
    /// Removes the file `name`; a file that is already gone is not an error. The directory
    /// is fsynced, so the removal survives a crash.
    public func remove(_ name: String) throws(StorageError) {
        let full = path(of: name)
        try Self.checkName(name, full)
        guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else { throw .system(path: full, operation: "unlink", errno: errno) }
        guard fsync(fd) == 0 || errno == EINVAL else { throw .system(path: path, operation: "fsync", errno: errno) }
    }

    /// Renames `name` to `newName` in this directory (replacing it), durably.
    public func rename(_ name: String, to newName: String) throws(StorageError) {
        let full = path(of: name)
        try Self.checkName(name, full)
        try Self.checkName(newName, path(of: newName))
        guard renameat(fd, name, fd, newName) == 0 else { throw .system(path: full, operation: "rename", errno: errno) }
        guard fsync(fd) == 0 || errno == EINVAL else { throw .system(path: path, operation: "fsync", errno: errno) }
    }
}
