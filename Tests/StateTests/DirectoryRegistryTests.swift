import Foundation
import XCTest
@testable import Registry
@testable import Storage
import Identifiers

/// `DirectoryRegistry` over a stand-in for pam_passkey_directory: when it asks the
/// directory, what it serves when the directory does not answer, and what it queues.
final class DirectoryRegistryTests: TempDirTestCase {
    let alice = try! UserName(validating: "alice")
    var now: EpochSeconds = 1_800_000_000

    /// Records what it was asked; "refreshes" by stamping the sync time, or fails.
    final class FakeDirectory: DirectorySync {
        var answers = true
        var refreshed: [String] = []
        var pushes = 0
        let cache: String
        let clock: () -> EpochSeconds

        init(cache: String, clock: @escaping () -> EpochSeconds) {
            self.cache = cache
            self.clock = clock
        }

        func refresh(_ user: UserName) -> String? {
            refreshed.append(user.rawValue)
            guard answers else { return "connection refused" }
            try! SecureDirectory.create(cache, mode: 0o755, parents: false)
                .replace(DirectoryRegistry.syncFileName(user), with: Array("\(clock())\n".utf8), mode: 0o644)
            return nil
        }

        func push() -> String? {
            pushes += 1
            return answers ? nil : "connection refused"
        }
    }

    func make(_ fake: FakeDirectory?, queue: Bool = true, online: Bool = false) -> DirectoryRegistry {
        DirectoryRegistry(location: "ldap://127.0.0.1:1/", cacheDirectory: path("cache"),
                          queue: queue ? WriteQueue(stateDirectory: path("state")) : nil, sync: fake,
                          rules: CacheRules(refreshSeconds: 300, maxOfflineSeconds: 7 * 86400, onlineRequired: online),
                          now: { [unowned self] in self.now })
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try SecureDirectory.create(path("state"), mode: 0o700)
    }

    func testAFreshCacheIsServedWithoutAskingAndAStaleOneIsRefreshedOnce() throws {
        let fake = FakeDirectory(cache: path("cache"), clock: { [unowned self] in self.now })
        XCTAssertEqual(try make(fake).record(for: alice).credentials, [])
        XCTAssertEqual(fake.refreshed, ["alice"])
        now += 299
        _ = try make(fake).record(for: alice)
        XCTAssertEqual(fake.refreshed, ["alice"], "younger than registry_refresh: the cache answers")
        now += 2
        _ = try make(fake).record(for: alice)
        XCTAssertEqual(fake.refreshed, ["alice", "alice"])
    }

    func testAnUnreachableDirectoryServesTheCacheUntilMaxOfflineThenRefuses() throws {
        let fake = FakeDirectory(cache: path("cache"), clock: { [unowned self] in self.now })
        _ = try make(fake).record(for: alice)
        fake.answers = false
        now += 6 * 86400
        XCTAssertNoThrow(try make(fake).record(for: alice))
        // The failure is remembered: within the retry pause nobody asks again.
        XCTAssertEqual(fake.refreshed.count, 2)
        _ = try make(fake).record(for: alice)
        XCTAssertEqual(fake.refreshed.count, 2)
        now += 86400 + 1
        XCTAssertThrowsError(try make(fake).record(for: alice)) { XCTAssertTrue($0 is RegistryOffline, "\($0)") }
        // A user never synced here: nothing to trust.
        let bob = try UserName(validating: "bob")
        now += 61
        XCTAssertThrowsError(try make(fake).record(for: bob)) { XCTAssertTrue($0 is RegistryOffline, "\($0)") }
    }

    func testOnlineRequiredAsksEveryTimeAndNeverServesTheCacheAlone() throws {
        let fake = FakeDirectory(cache: path("cache"), clock: { [unowned self] in self.now })
        _ = try make(fake, online: true).record(for: alice)
        _ = try make(fake, online: true).record(for: alice)
        XCTAssertEqual(fake.refreshed.count, 2)
        fake.answers = false
        XCTAssertThrowsError(try make(fake, online: true).record(for: alice)) { XCTAssertTrue($0 is RegistryOffline) }
    }

    func testWritesChangeTheCacheAndAreQueuedInOrderThenPushed() throws {
        let fake = FakeDirectory(cache: path("cache"), clock: { [unowned self] in self.now })
        let registry = make(fake)
        let c = sampleCredential("c1")
        XCTAssertEqual(try registry.register(c, for: alice, replacing: [], at: now, host: "host-a"), 1)
        try registry.recordLogin(user: alice, credentialID: c.id, signCount: 9, at: now + 1, host: "host-a")
        try registry.recordOffer(user: alice, answer: .accepted, service: "login", hostName: "host-a", at: now + 2)
        let revoked = try registry.revoke(user: alice, at: now + 3, by: "root") { $0.credentials }
        XCTAssertEqual(revoked.map(\.wasActive), [true])
        XCTAssertEqual(fake.pushes, 3, "a login waits for the next refresh; the rest is pushed at once")
        let kinds = try WriteQueue(stateDirectory: path("state")).entries().entries.map(\.write.kind)
        XCTAssertEqual(kinds, [.register, .login, .offer, .revoke])
        // The cache shows every write; replaying the queue on an empty record gives the same.
        fake.answers = true
        let cached = try DocumentStore<UserRecord>(directory: path("cache"), fileMode: 0o644, maxBytes: 1 << 20,
                                                   lockTimeout: .seconds(1), missingDirectory: .isAnError).read(alice)
        var replayed = UserRecord(user: alice)
        for e in try WriteQueue(stateDirectory: path("state")).entries().entries { e.write.apply(to: &replayed) }
        XCTAssertEqual(cached, replayed)
        XCTAssertEqual(cached.credentials.first?.signCount, 9)
        XCTAssertEqual(cached.credentials.first?.revoked, true)
        // Revoking again queues nothing.
        _ = try registry.revoke(user: alice, at: now + 4, by: "root") { $0.credentials }
        XCTAssertEqual(try WriteQueue(stateDirectory: path("state")).entries().entries.count, 4)
    }

    /// FreeIPA's security keys (read from ipaPassKey) have no entry of ours in the directory:
    /// a login's counter and last use, and a refused counter, stay in the cache and are never
    /// queued (the directory would refuse them for ever); a revocation is refused.
    func testAForeignCredentialsUseStaysInTheCacheAndItCannotBeRevoked() throws {
        let fake = FakeDirectory(cache: path("cache"), clock: { [unowned self] in self.now })
        let registry = make(fake)
        var ipa = sampleCredential("ipa-key")
        ipa.kind = .roaming
        ipa.source = .freeipa
        ipa.rpID = "example.com"
        ipa.signCount = 0
        try registry.cache.update(alice) { $0.add(ipa) }
        try registry.recordLogin(user: alice, credentialID: ipa.id, signCount: 5, at: now, host: "host-a")
        try registry.recordSignCountRegression(user: alice, credentialID: ipa.id,
                                               SignCountRegression(time: now + 1, host: "host-a", stored: 5, received: 4))
        XCTAssertEqual(try WriteQueue(stateDirectory: path("state")).entries().entries.count, 0)
        let cached = try registry.cache.read(alice).credential(id: ipa.id)
        XCTAssertEqual(cached?.signCount, 5)
        XCTAssertEqual(cached?.lastUsed, HostEvent(time: now, host: "host-a"))
        XCTAssertEqual(cached?.signCountRegression?.received, 4)
        XCTAssertThrowsError(try registry.revoke(user: alice, at: now + 2, by: "root") { $0.credentials }) {
            guard case DirectoryRegistryError.foreign(let id, .freeipa) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(id, ipa.id)
        }
        XCTAssertEqual(try registry.cache.read(alice).credential(id: ipa.id)?.revoked, false)
        // The registry's own credential beside it is queued as before, and never replaces it.
        let own = sampleCredential("c1")
        _ = try registry.register(own, for: alice, replacing: [ipa.id], at: now + 3, host: "host-a")
        try registry.recordLogin(user: alice, credentialID: own.id, signCount: 9, at: now + 4, host: "host-a")
        let queued = try WriteQueue(stateDirectory: path("state")).entries().entries.map(\.write)
        XCTAssertEqual(queued.map(\.kind), [.register, .login])
        XCTAssertEqual(queued[0].credentialIDs, [])
        XCTAssertEqual(try registry.cache.read(alice).credential(id: ipa.id)?.revoked, false)
    }

    func testAProcessThatIsNotRootReadsTheCacheAndWritesNothing() throws {
        let registry = make(nil, queue: false)
        XCTAssertThrowsError(try registry.recordLogin(user: alice, credentialID: CredentialID([1]), signCount: 1, at: now, host: "h"))
        XCTAssertThrowsError(try registry.record(for: alice)) { XCTAssertTrue($0 is RegistryOffline) }
    }
}
