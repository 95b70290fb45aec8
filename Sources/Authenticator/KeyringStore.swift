import HelperProtocol
import Storage
import WebAuthn
import Identifiers

/// What every backend keeps per credential and the shared rules touch: the wrong-PIN counter
/// (written and synced *before* each check) and the lock.
public protocol KeyringEntry: Codable, Equatable, Sendable {
    var credentialID: CredentialID { get }
    var rpID: String { get }
    var failedAttempts: Int { get set }
    /// The signature counter, reserved (incremented and synced) before each PIN check.
    var signCount: UInt32 { get set }
    var lockedAt: Int64? { get set }
}

extension KeyringEntry {
    public var id: CredentialID { credentialID }

    /// Locked after `maxAttempts` wrong PINs in a row (or marked locked): refuses even the
    /// right PIN until it is replaced or unlocked.
    public func isLocked(maxAttempts: Int) -> Bool { lockedAt != nil || failedAttempts >= maxAttempts }

    public func attemptsLeft(maxAttempts: Int) -> Int { max(0, maxAttempts - failedAttempts) }
}

/// One user's credentials of one backend, a versioned document like the registry's.
public struct Keyring<Entry: KeyringEntry>: VersionedDocument {
    public static var currentSchemaVersion: Int { 1 }
    public var schemaVersion: Int
    public var user: String
    public var credentials: [Entry]

    public static func empty(for user: UserName) -> Keyring {
        Keyring(schemaVersion: currentSchemaVersion, user: user.rawValue, credentials: [])
    }
}

/// A backend's credentials under `state_dir`:
///   authenticator/BACKEND/USER.json   0600, written atomically under the user's lock
/// Each backend has its own directory, so switching `authenticator` never misreads one
/// backend's records as the other's. Keyrings are secret files (`SecretFiles`): one that group
/// or others can read is refused, naming the file and the fix.
public struct KeyringStore<Entry: KeyringEntry>: Sendable {
    public let stateDirectory: String
    public let backend: String
    let documents: DocumentStore<Keyring<Entry>>
    static var lockTimeout: Duration { .seconds(5) }

    public init(stateDirectory: String, backend: String) {
        self.stateDirectory = stateDirectory
        self.backend = backend
        documents = DocumentStore(directory: SecretFiles.directory(in: stateDirectory) + "/" + backend, fileMode: 0o600,
                                  maxBytes: 1 << 20, lockTimeout: Self.lockTimeout,
                                  missingDirectory: .isEmpty(createMode: 0o700), secret: true)
    }

    var authenticatorDirectory: String { SecretFiles.directory(in: stateDirectory) }

    /// Whether this host has ever kept credentials of this backend.
    public var hasState: Bool { (try? SecureDirectory.open(documents.directory)) != nil }

    /// What makes the store unusable, or nil.
    public func problem() -> String? {
        do {
            _ = try SecureDirectory.open(stateDirectory)
            return nil
        } catch {
            return "state_dir is not usable: \(error)"
        }
    }

    public func credentials(of name: UserName) throws(HelperFailure) -> [Entry] {
        do {
            // Nothing enrolled on this host yet.
            do { _ = try SecureDirectory.open(authenticatorDirectory) } catch .notFound { return [] }
            return try documents.read(name).credentials
        } catch { throw HelperFailure(.unavailable, "\(backend) keyring: \(error)") }
    }

    /// Read-modify-write of the user's keyring under the user's lock, synced before it returns:
    /// concurrent logins cannot both read the same wrong-PIN count.
    public func update<R>(user name: UserName, _ body: (inout [Entry]) throws(HelperFailure) -> R) throws(HelperFailure) -> R {
        do {
            _ = try SecureDirectory.create(authenticatorDirectory, mode: 0o700, parents: false)
            return try documents.update(name) { (keyring: inout Keyring<Entry>) throws -> R in
                try body(&keyring.credentials)
            }
        } catch let e as HelperFailure {
            throw e
        } catch {
            throw HelperFailure(.unavailable, "\(backend) keyring: \(error)")
        }
    }

    /// The checks every backend makes before creating a credential: a well-formed request, and
    /// a credential to replace that this store really holds.
    public func check(_ request: MakeCredentialRequest) throws(HelperFailure) {
        guard request.clientDataHash.count == 32 else { throw HelperFailure(.badRequest, "clientDataHash must be 32 bytes") }
        guard !request.rpID.isEmpty else { throw HelperFailure(.badRequest, "rpID is empty") }
        if let old = request.replacing {
            guard try credentials(of: request.user).contains(where: { $0.id == old }) else {
                throw HelperFailure(.noCredential, "the credential to replace is not held here")
            }
        }
    }

    /// The credential a getAssertion request is for: the first allowed id this store holds
    /// for the user and relying party.
    public func credential(for request: GetAssertionRequest) throws(HelperFailure) -> Entry {
        guard request.clientDataHash.count == 32 else { throw HelperFailure(.badRequest, "clientDataHash must be 32 bytes") }
        let mine = try credentials(of: request.user).filter { $0.rpID == request.rpID }
        guard let chosen = request.allowCredentials.lazy.compactMap({ id in mine.first { $0.id == id } }).first else {
            throw HelperFailure(.noCredential, "none of the allowed credentials is held by this host's authenticator")
        }
        return chosen
    }

    /// Changes one credential under the lock; returns it as written.
    public func modify(_ credentialID: CredentialID, of user: UserName,
                       _ change: (inout Entry) throws(HelperFailure) -> Void) throws(HelperFailure) -> Entry {
        try update(user: user) { (keyring: inout [Entry]) throws(HelperFailure) -> Entry in
            guard let i = keyring.firstIndex(where: { $0.credentialID == credentialID }) else {
                throw HelperFailure(.noCredential, "the credential was removed")
            }
            try change(&keyring[i])
            return keyring[i]
        }
    }

    public func delete(user: UserName, credentialID: CredentialID) throws(HelperFailure) {
        try update(user: user) { (keyring: inout [Entry]) throws(HelperFailure) in
            guard keyring.contains(where: { $0.id == credentialID }) else {
                throw HelperFailure(.noCredential, "no such credential held here")
            }
            keyring.removeAll { $0.id == credentialID }
        }
    }

    /// Clears the wrong-PIN counter and the lock of one credential, or of all the user's.
    public func unlock(user: UserName, credentialID: CredentialID?) throws(HelperFailure) {
        try update(user: user) { (keyring: inout [Entry]) throws(HelperFailure) in
            var found = false
            for i in keyring.indices where credentialID == nil || keyring[i].id == credentialID! {
                found = true
                keyring[i].failedAttempts = 0
                keyring[i].lockedAt = nil
            }
            guard found else { throw HelperFailure(.noCredential, "no such credential held here") }
        }
    }
}
