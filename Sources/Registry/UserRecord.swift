import Storage
import Identifiers

/// Everything the registry knows about one user: one JSON document, `REGISTRY/USER.json`.
public struct UserRecord: VersionedDocument {
    /// Version 1: this layout. A file with a higher number is refused, not rewritten.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var user: String
    public var credentials: [CredentialRecord]
    /// Append offers made to this user on any host sharing this registry (absent in records
    /// written before any offer).
    public var offers: OfferLog?

    public init(user: UserName, credentials: [CredentialRecord] = []) {
        schemaVersion = Self.currentSchemaVersion
        self.user = user.rawValue
        self.credentials = credentials
    }

    public static func empty(for user: UserName) -> UserRecord { UserRecord(user: user) }

    /// Credentials that may be used to sign in.
    public var activeCredentials: [CredentialRecord] { credentials.filter(\.isActive) }

    public func credential(id: CredentialID) -> CredentialRecord? { credentials.first { $0.id == id } }

    /// Adds `credential` unless one with the same id is already there. Returns whether it was added.
    /// Credentials are kept in `registryOrder`: a new one goes last, unless its creation time
    /// is older than the last one's (a clock set back) or the same second.
    @discardableResult
    public mutating func add(_ new: CredentialRecord) -> Bool {
        guard credential(id: new.id) == nil else { return false }
        let place = credentials.lastIndex { !Self.registryOrder(new, $0) }.map { $0 + 1 } ?? 0
        credentials.insert(new, at: place)
        return true
    }

    /// The order of a record's credentials: by creation time, and of one second by id. Any
    /// copy of a record (a directory's, which has no order of its own) can be put back in it.
    public static func registryOrder(_ a: CredentialRecord, _ b: CredentialRecord) -> Bool {
        (a.created.time, a.id.text) < (b.created.time, b.id.text)
    }

    /// Changes the credential with `id` in place. Returns false when there is none.
    @discardableResult
    public mutating func modify(id: CredentialID, _ change: (inout CredentialRecord) -> Void) -> Bool {
        guard let i = credentials.firstIndex(where: { $0.id == id }) else { return false }
        change(&credentials[i])
        return true
    }

    /// A login with credential `id` whose assertion carried `signCount`, at `time` on `host`.
    /// Two logins with one credential may finish out of order: the counter never moves
    /// backwards, or the clone check would accept a replayed count. Written by the module
    /// after it verified the assertion, or by the setuid helper for a caller that is not root.
    @discardableResult
    public mutating func recordUse(id: CredentialID, signCount: UInt32, at time: EpochSeconds, host: String) -> Bool {
        modify(id: id) { c in
            c.signCount = max(c.signCount, signCount)
            c.lastUsed = HostEvent(time: time, host: host)
        }
    }

    /// Marks the credential revoked (kept in the file, never used again). Returns false when
    /// there is no such credential or it was already revoked.
    @discardableResult
    public mutating func revoke(id: CredentialID, at time: EpochSeconds, by who: String) -> Bool {
        guard let c = credential(id: id), !c.revoked else { return false }
        return modify(id: id) {
            $0.revoked = true
            $0.revokedAt = time
            $0.revokedBy = who
        }
    }
}
