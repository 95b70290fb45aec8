import Storage
import Identifiers

/// Per-user history of this host under `state_dir/history/` (a directory of its own, so
/// user names cannot collide with the authenticator's files in `state_dir`). Directory 0700,
/// files 0600: nobody but root learns who signs in here and when.
///
/// `state_dir` itself must exist (the installer creates it, 0700). A missing `history`
/// directory means nothing has happened yet: reading gives empty histories and the first
/// update creates it.
public struct HistoryStore: Sendable {
    public static let maxFileBytes = 256 << 10

    let store: DocumentStore<UserHistory>

    public var directory: String { store.directory }

    public init(stateDirectory: String, lockTimeout: Duration = .seconds(5)) {
        let base = stateDirectory.count > 1 && stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
        store = DocumentStore(directory: base + "/history", fileMode: 0o600, maxBytes: Self.maxFileBytes,
                              lockTimeout: lockTimeout, missingDirectory: .isEmpty(createMode: 0o700))
    }

    public func path(for user: UserName) -> String { store.path(for: user) }

    public func history(for user: UserName) throws(StorageError) -> UserHistory {
        try store.read(user)
    }

    /// Lock, read, change, atomic write, unlock (as the registry). Throws `StorageError` or
    /// what `body` throws; nothing is written then.
    @discardableResult
    public func update<R>(user: UserName, _ body: (inout UserHistory) throws -> R) throws -> R {
        try store.update(user, body)
    }

    public func users() throws(StorageError) -> [UserName] {
        try store.users()
    }
}
