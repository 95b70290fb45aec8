import Storage
import Identifiers

/// The read side of the registry port: one user's record — credentials and the fleet-wide
/// offer log — in one read, one consistent view. The decision's gathering needs only this.
public protocol RegistryReading {
    /// A user without a record (and a name with no account) gets an empty record, not an
    /// error: the answer never tells whether an account exists. Throw only when the registry
    /// cannot be read at all.
    func record(for user: UserName) throws -> UserRecord
}

/// Where users' credential records live: the registry port. One operation per purpose, so
/// that a store other than files (a directory service) implements each as its own change;
/// every write is serialised against every other writer of that user's record, and nothing
/// is stored when an operation throws.
public protocol CredentialRegistry: RegistryReading {
    /// Where it is, for messages: a directory, a directory service's URI.
    var location: String { get }
    /// Registers `credential` (made on `host`) and revokes `replacing` (the heal path) in one
    /// change. Returns how many hosts now have an active passkey of the user.
    func register(_ credential: CredentialRecord, for user: UserName, replacing: [CredentialID], at time: EpochSeconds,
                  host: String) throws -> Int
    /// A verified login: the signature's counter (never moved backwards) and the last use.
    func recordLogin(user: UserName, credentialID: CredentialID, signCount: UInt32, at time: EpochSeconds, host: String) throws
    /// A valid signature whose counter did not grow: kept on the credential for the administrator.
    func recordSignCountRegression(user: UserName, credentialID: CredentialID, _ regression: SignCountRegression) throws
    /// Revokes the credentials `choose` picks from the current record, under the same lock, so
    /// nothing can slip between the choice and the change. Returns each chosen credential and
    /// whether it was active until now.
    func revoke<E: Error>(user: UserName, at time: EpochSeconds, by who: String,
                          choosing choose: (UserRecord) throws(E) -> [CredentialRecord]) throws -> [(CredentialRecord, wasActive: Bool)]
    /// An append offer shown on `hostName` for `service`, and the answer (or none).
    func recordOffer(user: UserName, answer: OfferAnswer, service: String, hostName: String, at time: EpochSeconds) throws
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
    public var location: String { store.directory }

    public init(directory: String, lockTimeout: Duration = .seconds(5)) {
        store = DocumentStore(directory: directory, fileMode: 0o644, maxBytes: Self.maxFileBytes,
                              lockTimeout: lockTimeout, missingDirectory: .isAnError)
    }

    public func path(for user: UserName) -> String { store.path(for: user) }

    public func record(for user: UserName) throws(StorageError) -> UserRecord {
        try store.read(user)
    }

    /// Read-modify-write of one user's record, serialised against every other writer of that
    /// user (the files store's own mechanism; callers outside tests use the port's operations).
    @discardableResult
    public func update<R>(user: UserName, _ body: (inout UserRecord) throws -> R) throws -> R {
        try store.update(user, body)
    }

    public func users() throws(StorageError) -> [UserName] {
        try store.users()
    }

    public func register(_ credential: CredentialRecord, for user: UserName, replacing: [CredentialID], at time: EpochSeconds,
                         host: String) throws -> Int {
        try update(user: user) { record in
            record.add(credential)
            for old in replacing { record.revoke(id: old, at: time, by: "replaced on \(host)") }
            return Set(record.activeCredentials.map(\.hostID)).count
        }
    }

    public func recordLogin(user: UserName, credentialID: CredentialID, signCount: UInt32, at time: EpochSeconds, host: String) throws {
        try update(user: user) { $0.recordUse(id: credentialID, signCount: signCount, at: time, host: host) }
    }

    public func recordSignCountRegression(user: UserName, credentialID: CredentialID, _ regression: SignCountRegression) throws {
        try update(user: user) { record in record.modify(id: credentialID) { $0.signCountRegression = regression } }
    }

    public func revoke<E: Error>(user: UserName, at time: EpochSeconds, by who: String,
                                 choosing choose: (UserRecord) throws(E) -> [CredentialRecord]) throws -> [(CredentialRecord, wasActive: Bool)] {
        try update(user: user) { record in
            try choose(record).map { c in (c, record.revoke(id: c.id, at: time, by: who)) }
        }
    }

    public func recordOffer(user: UserName, answer: OfferAnswer, service: String, hostName: String, at time: EpochSeconds) throws {
        try update(user: user) { record in
            var log = record.offers ?? OfferLog()
            log.record(answer: answer, service: service, hostName: hostName, at: time)
            record.offers = log
        }
    }
}
