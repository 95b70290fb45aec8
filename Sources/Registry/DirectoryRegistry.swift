#if canImport(Glibc)
import Glibc
#endif
import Identifiers
import Policy
import Storage

/// How the cache reaches the directory: pam_passkey_directory, started with a deadline and
/// killed at it (Wiring/DirectoryProgram.swift). A port, so tests can stand in for it.
public protocol DirectorySync {
    /// Sends the queued writes, then reads `user`'s entries into the cache (with the time of
    /// this sync). Nil when done; otherwise why not (unreachable, refused, timed out).
    func refresh(_ user: UserName) -> String?
    /// Sends the queued writes.
    func push() -> String?
}

/// The rules of the cache (policy keys `registry_refresh`, `registry_max_offline`,
/// `registry_online`, `registry_retry`).
public struct CacheRules: Sendable {
    public var refreshSeconds: Int64
    public var maxOfflineSeconds: Int64
    public var onlineRequired: Bool
    /// After a failed contact, how long logins use the cache without trying again: one hung
    /// directory costs one login one `registry_timeout`, not every PAM call of every login.
    public var retrySeconds: Int64

    public init(refreshSeconds: Int64, maxOfflineSeconds: Int64, onlineRequired: Bool, retrySeconds: Int64 = 60) {
        self.refreshSeconds = refreshSeconds
        self.maxOfflineSeconds = maxOfflineSeconds
        self.onlineRequired = onlineRequired
        self.retrySeconds = retrySeconds
    }

    /// As the policy says.
    public init(policy: Policy) {
        self.init(refreshSeconds: Int64(policy[.registryRefresh]), maxOfflineSeconds: Int64(policy[.registryMaxOffline]),
                  onlineRequired: policy[.registryOnline] == .required, retrySeconds: Int64(policy[.registryRetry]))
    }
}

/// The directory could not vouch for a record: the cached copy is older than
/// `registry_max_offline` (or there is none, or `registry_online = required`), and the
/// directory did not answer. The passkey login steps aside (`registry_offline`).
public struct RegistryOffline: Error, Sendable, CustomStringConvertible {
    public let user: String
    /// When the cached record was last synced (nil: never on this host).
    public let syncedAt: EpochSeconds?
    public let why: String

    public var description: String {
        let age = syncedAt.map { "last synced at epoch \($0)" } ?? "never synced on this host"
        return "the directory's record of \(user) cannot be trusted: \(age), and \(why)"
    }
}

public enum DirectoryRegistryError: Error, CustomStringConvertible {
    /// A process that is not root reads the cache and writes nothing.
    case readOnly
    /// A credential another system owns (FreeIPA's ipaPassKey) cannot be changed from here.
    case foreign(CredentialID, CredentialSource)

    public var description: String {
        switch self {
        case .readOnly: "the directory cache is read-only for processes that are not root"
        case .foreign(let id, let source): "credential \(id.short) is \(source.displayName)'s; pam_passkey never writes it"
        }
    }
}

/// The registry port over an LDAP directory, for a process that never loads libldap (the
/// module, passkeyctl, the helper). Reads come from a local cache of the directory's records —
/// a files-registry directory (`registry_cache_dir`, root-owned, world-readable), with each
/// user's sync time beside the record (`USER.synced`) — refreshed through `DirectorySync` when
/// older than `registry_refresh`. Writes change the cache and append to `WriteQueue` under the
/// user's lock, then are pushed; what the directory does not take now stays queued for the
/// next sync. A process that is not root (`sync == nil, queue == nil`) reads the cache only.
public final class DirectoryRegistry: CredentialRegistry {
    public let location: String
    let cache: DocumentStore<UserRecord>
    let queue: WriteQueue?
    let sync: (any DirectorySync)?
    let rules: CacheRules
    let now: () -> EpochSeconds
    /// Set when a contact failed in this process: later ones in the same PAM call are skipped.
    private var failedContact = false

    public static let unreachableMark = ".unreachable"

    public init(location: String, cacheDirectory: String, queue: WriteQueue?, sync: (any DirectorySync)?, rules: CacheRules,
                now: @escaping () -> EpochSeconds = currentEpochSeconds) {
        self.location = location
        cache = DocumentStore(directory: cacheDirectory, fileMode: 0o644, maxBytes: FileRegistry.maxFileBytes,
                              lockTimeout: .seconds(5), missingDirectory: .isEmpty(createMode: 0o755))
        self.queue = queue
        self.sync = sync
        self.rules = rules
        self.now = now
    }

    public var cacheDirectory: String { cache.directory }

    /// When `user`'s cached record was last read from the directory.
    public func syncedAt(_ user: UserName) -> EpochSeconds? {
        guard let dir = try? SecureDirectory.open(cache.directory),
              let bytes = try? dir.read(Self.syncFileName(user), maxBytes: 64) else { return nil }
        return EpochSeconds(String(decoding: bytes, as: UTF8.self).split(separator: "\n").first ?? "")
    }

    public static func syncFileName(_ user: UserName) -> String { user.rawValue + ".synced" }

    /// When a contact last failed, if one did within `retrySeconds`.
    func recentFailure() -> EpochSeconds? {
        guard let dir = try? SecureDirectory.open(cache.directory),
              let bytes = try? dir.read(Self.unreachableMark, maxBytes: 64),
              let t = EpochSeconds(String(decoding: bytes, as: UTF8.self).split(separator: "\n").first ?? "") else { return nil }
        let age = now() - t
        return age >= 0 && age < rules.retrySeconds ? t : nil
    }

    private func contactFailed() {
        failedContact = true
        guard geteuid() == 0, let dir = try? SecureDirectory.create(cache.directory, mode: 0o755, parents: false) else { return }
        try? dir.replace(Self.unreachableMark, with: Array("\(now())\n".utf8), mode: 0o644)
    }

    private func contactWorked() {
        guard geteuid() == 0, let dir = try? SecureDirectory.open(cache.directory) else { return }
        try? dir.remove(Self.unreachableMark)
    }

    /// Whether this process may ask the directory now.
    private var mayContact: Bool { sync != nil && !failedContact && (rules.onlineRequired || recentFailure() == nil) }

    // MARK: - Reading

    public func record(for user: UserName) throws -> UserRecord {
        let cached = try cache.read(user)
        let synced = syncedAt(user)
        let age = synced.map { now() - $0 }
        let fresh = age.map { $0 >= 0 && $0 < rules.refreshSeconds } ?? false
        if fresh && !rules.onlineRequired { return cached }
        var why = sync == nil ? "this process cannot ask the directory (not root)" : "the directory did not answer recently"
        if let sync, mayContact {
            if let failure = sync.refresh(user) {
                contactFailed()
                why = failure
            } else {
                contactWorked()
                return try cache.read(user)
            }
        }
        if rules.onlineRequired { throw RegistryOffline(user: user.rawValue, syncedAt: synced, why: why + " (registry_online = required)") }
        guard let age, age <= rules.maxOfflineSeconds else {
            throw RegistryOffline(user: user.rawValue, syncedAt: synced, why: why)
        }
        return cached
    }

    public func users() throws -> [UserName] { try cache.users() }

    // MARK: - Writing

    /// Applies `write` to the cached record and queues it, under the user's lock; then, with
    /// `pushNow`, pushes the queue when the directory may be asked. A login with a passkey
    /// bound to this host leaves its counter and last use for the next refresh of the user (at
    /// most `registry_refresh` later, at their next login) or `passkeyctl sync`: only this
    /// host checks that credential's counter, from its own cache, so sending it at once would
    /// cost every passkey login a process start and a round trip (about 30 ms here) for
    /// nothing the next login needs. A security key's login is sent at once (`recordLogin`).
    @discardableResult
    private func change<R>(_ user: UserName, pushNow: Bool = true, _ body: (UserRecord) throws -> (PendingWrite?, R)) throws -> R {
        guard let queue else { throw DirectoryRegistryError.readOnly }
        let result = try cache.update(user) { record throws -> R in
            let (write, result) = try body(record)
            if let write {
                let localOnly = Self.isLocalOnly(write, in: record)
                write.apply(to: &record)
                if !localOnly { try queue.append(write) }
            }
            return result
        }
        if pushNow, let sync, mayContact {
            if sync.push() != nil { contactFailed() } else { contactWorked() }
        }
        return result
    }

    /// Whether `write` only changes what this host keeps about a credential another system
    /// owns (FreeIPA's security keys): its counter and last use, or a refused counter. Those
    /// are applied to this host's cache and never queued: the directory has no
    /// pamPasskeyCredential entry for them and would refuse the write for ever.
    /// pam_passkey_directory keeps them in the cache across refreshes.
    static func isLocalOnly(_ write: PendingWrite, in record: UserRecord) -> Bool {
        switch write.kind {
        case .login, .regression:
            guard let id = write.credentialIDs?.first else { return false }
            return record.credential(id: id)?.isForeign == true
        case .register, .revoke, .offer:
            return false
        }
    }

    public func register(_ credential: CredentialRecord, for user: UserName, replacing: [CredentialID], at time: EpochSeconds,
                         host: String) throws -> Int {
        try change(user) { record in
            // Another system's credential is never replaced from here (nor revoked with it).
            let replacing = replacing.filter { record.credential(id: $0)?.isForeign != true }
            let write = PendingWrite(kind: .register, user: user, time: time, host: host, credential: credential, credentialIDs: replacing)
            var after = record
            write.apply(to: &after)
            return (write, Set(after.activeCredentials.map(\.hostID)).count)
        }
    }

    /// A platform credential's counter waits for the next refresh or sync (only this host
    /// checks it). A security key's is sent at once: the key signs on every host, each checks
    /// the counter it last read from the directory, and a clone's lower count must meet the
    /// real one there as soon as possible. (FreeIPA's keys are never sent: `isLocalOnly`.)
    public func recordLogin(user: UserName, credentialID: CredentialID, signCount: UInt32, at time: EpochSeconds, host: String) throws {
        let cached = try? cache.read(user).credential(id: credentialID)
        let roaming = cached.map { $0.kind == .roaming && !$0.isForeign } ?? false
        try change(user, pushNow: roaming) { _ in
            (PendingWrite(kind: .login, user: user, time: time, host: host, credentialIDs: [credentialID], signCount: signCount), ())
        }
    }

    public func recordSignCountRegression(user: UserName, credentialID: CredentialID, _ regression: SignCountRegression) throws {
        try change(user) { _ in
            (PendingWrite(kind: .regression, user: user, time: regression.time, host: regression.host, credentialIDs: [credentialID],
                          regression: regression), ())
        }
    }

    public func revoke<E: Error>(user: UserName, at time: EpochSeconds, by who: String,
                                 choosing choose: (UserRecord) throws(E) -> [CredentialRecord]) throws -> [(CredentialRecord, wasActive: Bool)] {
        try change(user) { record in
            let chosen = try choose(record)
            if let foreign = chosen.first(where: { record.credential(id: $0.id)?.isForeign == true }), let source = foreign.source {
                throw DirectoryRegistryError.foreign(foreign.id, source)
            }
            let result = chosen.map { c in (c, wasActive: record.credential(id: c.id).map { !$0.revoked } ?? false) }
            let ids = result.filter(\.wasActive).map(\.0.id)
            let write = ids.isEmpty ? nil : PendingWrite(kind: .revoke, user: user, time: time, host: who, credentialIDs: ids, revokedBy: who)
            return (write, result)
        }
    }

    public func recordOffer(user: UserName, answer: OfferAnswer, service: String, hostName: String, at time: EpochSeconds) throws {
        try change(user) { _ in
            (PendingWrite(kind: .offer, user: user, time: time, host: hostName, answer: answer, service: service), ())
        }
    }
}
