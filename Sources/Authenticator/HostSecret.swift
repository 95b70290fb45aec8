import Crypto
import HelperProtocol
import Storage

/// The software authenticator's host secret, `state_dir/authenticator/host.secret` (32 random
/// bytes, 0600): half of every wrapping key, so a copied keyring is useless without the rest of
/// this host's state. A secret file (`SecretFiles`): refused when anyone but root can read it.
public struct HostSecret: Sendable {
    public let stateDirectory: String
    static let name = "host.secret"

    public init(stateDirectory: String) { self.stateDirectory = stateDirectory }

    var directory: String { SecretFiles.directory(in: stateDirectory) }

    /// Why the secret cannot be used as it is (readable by others, not a regular file, …), or
    /// nil, also when it does not exist yet. Looks without reading it.
    public func problem() -> String? {
        do {
            _ = try SecureDirectory.open(directory).checkSecret(Self.name)
            return nil
        } catch .notFound(let missing) where missing == directory {
            return nil
        } catch {
            return "host secret: \(error)"
        }
    }

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
        guard var bytes = try dir.read(Self.name, maxBytes: 64, secret: true) else { return nil }
        defer { wipe(&bytes) }
        guard bytes.count == 32 else {
            throw HelperFailure(.unavailable, "\(dir.path(of: Self.name)) is damaged (\(bytes.count) bytes, expected 32)")
        }
        return SecretBytes(bytes)
    }
}
