import HelperProtocol
import Storage

/// The TPM authenticator's state under `state_dir`:
///   authenticator/tpm/USER.json  the user's TPM credentials, 0600, written atomically under a lock
/// Beside the software backend's directory, so switching `authenticator` never misreads one
/// backend's records as the other's.
public struct TPMCredentialStore: Sendable {
    public let stateDirectory: String
    let keyrings: DocumentStore<TPMKeyring>
    static let lockTimeout: Duration = .seconds(5)

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
        keyrings = DocumentStore(directory: stateDirectory + "/authenticator/tpm", fileMode: 0o600, maxBytes: 1 << 20,
                                 lockTimeout: Self.lockTimeout, missingDirectory: .isEmpty(createMode: 0o700))
    }

    var authenticatorDirectory: String { stateDirectory + "/authenticator" }

    /// Whether this host has ever kept TPM credentials (`auto` then stays with the TPM even
    /// when it stops answering, rather than silently switching to software).
    public var hasState: Bool {
        (try? SecureDirectory.open(keyrings.directory)) != nil
    }

    public func problem() -> String? {
        do {
            _ = try SecureDirectory.open(stateDirectory)
            return nil
        } catch {
            return "state_dir is not usable: \(error)"
        }
    }

    public func credentials(of user: String) throws(HelperFailure) -> [TPMCredential] {
        let name = try userName(user)
        do {
            do { _ = try SecureDirectory.open(authenticatorDirectory) } catch .notFound { return [] }
            return try keyrings.read(name).credentials
        } catch { throw HelperFailure(.unavailable, "TPM keyring: \(error)") }
    }

    /// Read-modify-write of the user's TPM credentials under the user's lock, synced before it
    /// returns.
    public func update<R>(user: String, _ body: (inout [TPMCredential]) throws(HelperFailure) -> R) throws(HelperFailure) -> R {
        let name = try userName(user)
        do {
            _ = try SecureDirectory.create(authenticatorDirectory, mode: 0o700, parents: false)
            return try keyrings.update(name) { (keyring: inout TPMKeyring) throws -> R in
                try body(&keyring.credentials)
            }
        } catch let e as HelperFailure {
            throw e
        } catch {
            throw HelperFailure(.unavailable, "TPM keyring: \(error)")
        }
    }

    private func userName(_ user: String) throws(HelperFailure) -> UserName {
        do { return try UserName(validating: user) } catch { throw HelperFailure(.badRequest, error.description) }
    }
}
