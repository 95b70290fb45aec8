import Crypto
import HelperProtocol
import Storage

/// The software authenticator's host secret, `state_dir/authenticator/host.secret` (32 random
/// bytes, 0600): half of every wrapping key, so a copied keyring is useless without the rest of
/// this host's state.
public struct HostSecret: Sendable {
    public let stateDirectory: String
    static let name = "host.secret"

    public init(stateDirectory: String) { self.stateDirectory = stateDirectory }

    var directory: String { stateDirectory + "/authenticator" }

    /// The secret; created (and synced) on first use when `create` is true, nil when it does
    /// not exist and `create` is false.
    public func value(create: Bool) throws(HelperFailure) -> SecretBytes? {
        do {
            let dir: SecureDirectory
            if create {
                dir = try SecureDirectory.create(directory, mode: 0o700, parents: false)
            } else {
                do { dir = try SecureDirectory.open(directory) } catch .notFound { return nil }
            }
            if let existing = try read(dir) { return existing }
            guard create else { return nil }
            // Two first enrolments at once must agree on one secret: create it under a lock.
            return try dir.withLock(Self.name, timeout: .seconds(5)) { file -> SecretBytes in
                if let raced = try read(dir) { return raced }
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

    private func read(_ dir: SecureDirectory) throws -> SecretBytes? {
        guard var bytes = try dir.read(Self.name, maxBytes: 64) else { return nil }
        defer { wipe(&bytes) }
        guard bytes.count == 32 else {
            throw HelperFailure(.unavailable, "\(dir.path(of: Self.name)) is damaged (\(bytes.count) bytes, expected 32)")
        }
        return SecretBytes(bytes)
    }
}
