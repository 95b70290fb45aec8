import Crypto
import HelperProtocol
import Storage

/// One user's sealed software credentials, a versioned document like the registry's.
public struct Keyring: VersionedDocument {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var user: String
    public var credentials: [SealedCredential]

    public static func empty(for user: UserName) -> Keyring {
        Keyring(schemaVersion: currentSchemaVersion, user: user.rawValue, credentials: [])
    }
}

/// The software authenticator's state under `state_dir`:
///   authenticator/host.secret        32 random bytes, 0600 — half of every wrapping key
///   authenticator/software/USER.json the user's keyring, 0600, written atomically under a lock
public struct FileCredentialStore: SealedCredentialStore {
    public let stateDirectory: String
    let keyrings: DocumentStore<Keyring>
    static let secretName = "host.secret"
    static let lockTimeout: Duration = .seconds(5)

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
        keyrings = DocumentStore(directory: stateDirectory + "/authenticator/software", fileMode: 0o600, maxBytes: 1 << 20,
                                 lockTimeout: Self.lockTimeout, missingDirectory: .isEmpty(createMode: 0o700))
    }

    var authenticatorDirectory: String { stateDirectory + "/authenticator" }

    public func problem() -> String? {
        do {
            _ = try SecureDirectory.open(stateDirectory)
            return nil
        } catch {
            return "state_dir is not usable: \(error)"
        }
    }

    public func hostSecret(create: Bool) throws(HelperFailure) -> SecretBytes? {
        do {
            let dir: SecureDirectory
            if create {
                dir = try SecureDirectory.create(authenticatorDirectory, mode: 0o700, parents: false)
            } else {
                do { dir = try SecureDirectory.open(authenticatorDirectory) } catch .notFound { return nil }
            }
            if let existing = try readSecret(dir) { return existing }
            guard create else { return nil }
            // Two first enrolments at once must agree on one secret: create it under a lock.
            return try dir.withLock(Self.secretName, timeout: Self.lockTimeout) { file -> SecretBytes in
                if let raced = try readSecret(dir) { return raced }
                var fresh = SecureRandom.bytes(32)
                defer { wipe(&fresh) }
                try file.replace(with: fresh, mode: 0o600)
                return SecretBytes(fresh)
            }
        } catch let e as HelperFailure {
            throw e
        } catch {
            throw HelperFailure(.unavailable, "host secret: \(error)")
        }
    }

    private func readSecret(_ dir: SecureDirectory) throws -> SecretBytes? {
        guard var bytes = try dir.read(Self.secretName, maxBytes: 64) else { return nil }
        defer { wipe(&bytes) }
        guard bytes.count == 32 else {
            throw HelperFailure(.unavailable, "\(dir.path(of: Self.secretName)) is damaged (\(bytes.count) bytes, expected 32)")
        }
        return SecretBytes(bytes)
    }

    public func credentials(of user: String) throws(HelperFailure) -> [SealedCredential] {
        let name = try userName(user)
        do {
            // Nothing enrolled on this host yet.
            do { _ = try SecureDirectory.open(authenticatorDirectory) } catch .notFound { return [] }
            return try keyrings.read(name).credentials
        } catch { throw HelperFailure(.unavailable, "keyring: \(error)") }
    }

    public func update<R>(user: String, _ body: (inout [SealedCredential]) throws(HelperFailure) -> R) throws(HelperFailure) -> R {
        let name = try userName(user)
        do {
            _ = try SecureDirectory.create(authenticatorDirectory, mode: 0o700, parents: false)
            return try keyrings.update(name) { (keyring: inout Keyring) throws -> R in
                try body(&keyring.credentials)
            }
        } catch let e as HelperFailure {
            throw e
        } catch {
            throw HelperFailure(.unavailable, "keyring: \(error)")
        }
    }

    private func userName(_ user: String) throws(HelperFailure) -> UserName {
        do { return try UserName(validating: user) } catch { throw HelperFailure(.badRequest, error.description) }
    }
}
