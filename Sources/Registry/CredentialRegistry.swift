import Storage

/// Where users' credential records live: the seam between the module and the store, so a
/// directory service can later stand in for the shared directory of files.
///
/// An unknown user and a user without credentials get the same empty record: the answer
/// never tells whether an account exists.
public protocol CredentialRegistry {
    func record(for user: UserName) throws -> UserRecord
    /// Read-modify-write of one user's record, serialised against every other writer of that
    /// user. Nothing is stored when `body` throws; its error is rethrown.
    @discardableResult
    func update<R>(user: UserName, _ body: (inout UserRecord) throws -> R) throws -> R
    /// Every user with a record (reports and administration, not login).
    func users() throws -> [UserName]
}

/// The default registry: one JSON document per user in `registry_dir`, which may be shared
/// between hosts (see `SecureDirectory.withLock` for what locking means on NFS).
///
/// Every file and directory on the path is checked as root-owned and not writable by others,
/// so on NFS the share must be exported without root squashing (files created by a squashed
/// root belong to nobody and are refused). A missing `registry_dir` is an error, not an empty
/// registry: it is created at installation (`SecureDirectory.create(_, mode: 0o755)`), and a
/// share that is not there must not look like "nobody has passkeys".
public struct FileRegistry: CredentialRegistry, Sendable {
    /// Larger than any real record: a user with 300 credentials and full attestations fits.
    public static let maxFileBytes = 1 << 20

    let store: DocumentStore<UserRecord>

    public var directory: String { store.directory }

    public init(directory: String, lockTimeout: Duration = .seconds(5)) {
        store = DocumentStore(directory: directory, fileMode: 0o644, maxBytes: Self.maxFileBytes,
                              lockTimeout: lockTimeout, missingDirectory: .isAnError)
    }

    public func path(for user: UserName) -> String { store.path(for: user) }

    public func record(for user: UserName) throws(StorageError) -> UserRecord {
        try store.read(user)
    }

    @discardableResult
    public func update<R>(user: UserName, _ body: (inout UserRecord) throws -> R) throws -> R {
        try store.update(user, body)
    }

    public func users() throws(StorageError) -> [UserName] {
        try store.users()
    }
}
