import HostState
import Intelligence
import Registry
import Policy
import Storage
import XCTest
import Identifiers
import IdentifierLiterals

/// Fakes at the seams, recording every question asked.
final class Recorder: @unchecked Sendable {
    var asked: [String] = []
}

struct FakeRegistry: RegistryReading {
    struct Unreadable: Error, CustomStringConvertible { var description: String { "permission denied" } }
    let recorder: Recorder
    var records: [String: [CredentialSignal]] = [:]
    var fails = false
    func record(for user: UserName) throws -> UserRecord {
        recorder.asked.append("registry \(user)")
        if fails { throw Unreadable() }
        return UserRecord(user: user, credentials: (records[user.rawValue] ?? []).map(CredentialRecord.init(signal:)))
    }
}

extension CredentialRecord {
    /// A record the gatherer turns back into `signal`.
    init(signal c: CredentialSignal) {
        self.init(id: c.id, publicKey: "", kind: c.kind == .platform ? .platform : .roaming, hostID: c.hostID ?? "",
                  hostName: c.hostName ?? "", aaguid: c.aaguid, backupEligible: c.backupEligible, backedUp: c.backedUp,
                  transports: c.transports, signCount: c.signCount, created: HostEvent(time: c.created, host: c.hostName ?? ""),
                  lastUsed: c.lastUsed.map { HostEvent(time: $0, host: c.hostName ?? "") }, revoked: c.revoked,
                  attestationObject: "", clientDataJSON: "")
    }
}

struct FakeHistory: HostHistorySource {
    struct Corrupt: Error, CustomStringConvertible { var description: String { "line 1: not JSON" } }
    let recorder: Recorder
    var fails = false
    func hostHistory(of user: UserName) throws -> HostHistory {
        recorder.asked.append("history \(user)")
        if fails { throw Corrupt() }
        return HostHistory()
    }
}

struct FakeProbe: AuthenticatorProbe {
    let recorder: Recorder
    var answer: AuthenticatorSignal
    var keys: SecurityKeySignal = .notProbed
    func probe(user: UserName, securityKeyCredentials: [CredentialID], securityKeyPresence: Bool) -> ProbeSignals {
        recorder.asked.append("probe \(user)" + (securityKeyCredentials.isEmpty ? "" : " keys=\(securityKeyCredentials.count)")
                              + (securityKeyPresence ? " presence" : ""))
        return ProbeSignals(authenticator: answer, securityKeys: securityKeyCredentials.isEmpty && !securityKeyPresence ? .notProbed : keys)
    }
}

struct FakeAccounts: AccountLookup {
    let recorder: Recorder
    var uids: [String: UInt32]
    func uid(of user: UserName) -> UInt32? {
        recorder.asked.append("account \(user)")
        return uids[user.rawValue]
    }
}

extension SignalGatherer {
    /// The names in these tests are valid: the PAM boundary validates them once.
    func gather(user: String, session: SessionSignal, now: Int64, policy: Policy,
                probe: ProbeRule = .unlessSessionDecides) throws(GatherError) -> Signals {
        try gather(user: try! UserName(validating: user), session: session, now: now, policy: policy, probe: probe).signals
    }
}

final class GatheringTests: XCTestCase {
    func gatherer(_ r: Recorder, registryFails: Bool = false, historyFails: Bool = false) -> SignalGatherer {
        SignalGatherer(
            registry: FakeRegistry(recorder: r, records: ["alice": [platform("B1", on: hostB)]], fails: registryFails),
            history: FakeHistory(recorder: r, fails: historyFails),
            authenticator: FakeProbe(recorder: r, answer: .healthy(holding: [HeldCredentialSignal(id: "B1")])),
            accounts: FakeAccounts(recorder: r, uids: ["alice": 1000, "bob": 1001]),
            host: hostB)
    }

    func testGathersEverythingForALocalLogin() throws {
        let r = Recorder()
        let s = try gatherer(r).gather(user: "alice", session: console, now: now, policy: Policy())
        XCTAssertEqual(r.asked, ["registry alice", "account alice", "history alice", "probe alice"])
        XCTAssertEqual(s.uid, 1000)
        XCTAssertEqual(s.credentials.map(\.id), ["B1"])
        XCTAssertEqual(s.host, hostB)
        XCTAssertEqual(decideLogin(s, policy: Policy()), .passkey(credentialIDs: ["B1"]))
    }

    /// The same questions, in the same order, for a name with no account, one without
    /// passkeys and one with: the work done does not tell them apart.
    func testSameQuestionsForEveryName() throws {
        var shapes: [[String]] = []
        for user in ["alice", "bob", "nobody-here"] {
            let r = Recorder()
            _ = try gatherer(r).gather(user: user, session: console, now: now, policy: Policy())
            shapes.append(r.asked.map { String($0.split(separator: " ")[0]) })
        }
        XCTAssertEqual(Set(shapes.map { $0.joined(separator: ",") }).count, 1, "\(shapes)")
    }

    /// A program that runs as a user (a screen locker) can act for that user only: for any
    /// other name — a real account or none — the account is looked up and nothing else is
    /// read or asked; its own account is gathered as at the console.
    func testProgramRunningAsAUserReadsNothingAboutOtherAccounts() throws {
        var locker = console
        locker.callerUID = 1001  // bob's
        for user in ["alice", "nobody-here"] {
            let r = Recorder()
            let s = try gatherer(r).gather(user: user, session: locker, now: now, policy: Policy(), probe: .whenItCanDecide)
            XCTAssertEqual(r.asked, ["account \(user)"], user)
            XCTAssertEqual(decideLogin(s, policy: Policy()), .stepAside(.otherAccount(callerUID: 1001)), user)
        }
        var own = console
        own.callerUID = 1000  // alice's
        let r = Recorder()
        let s = try gatherer(r).gather(user: "alice", session: own, now: now, policy: Policy(), probe: .whenItCanDecide)
        XCTAssertEqual(r.asked, ["account alice", "registry alice", "history alice", "probe alice"])
        XCTAssertEqual(decideLogin(s, policy: Policy()), .passkey(credentialIDs: ["B1"]))
    }

    func testRemoteSessionSkipsOnlyTheProbe() throws {
        let r = Recorder()
        let s = try gatherer(r).gather(user: "alice", session: ssh(from: "10.0.0.5"), now: now, policy: Policy())
        XCTAssertEqual(r.asked, ["registry alice", "account alice", "history alice"])
        XCTAssertEqual(s.authenticator, .notProbed)
        XCTAssertEqual(decideLogin(s, policy: Policy()), .stepAside(.remoteSession(rhost: "10.0.0.5")))
        XCTAssertEqual(decideAppend(s, policy: Policy()), .noOffer(.remoteSession(rhost: "10.0.0.5")))

        // explain asks anyway; with remote_sessions = allow the session does not decide.
        let r2 = Recorder()
        _ = try gatherer(r2).gather(user: "alice", session: ssh(from: "10.0.0.5"), now: now, policy: Policy(), probe: .always)
        XCTAssertTrue(r2.asked.contains("probe alice"))
        let r3 = Recorder()
        let allowed = try gatherer(r3).gather(user: "alice", session: ssh(from: "10.0.0.5"), now: now, policy: policy(["remote_sessions": "allow"]))
        XCTAssertEqual(allowed.authenticator.state, .healthy)
    }

    /// The login step spawns the helper only when its answer can change the decision. A user
    /// with no active credential — none, only revoked ones, or no account at all — gets rule 1
    /// whatever the authenticator says (even if it holds a key the registry does not list),
    /// and all three do exactly the same work. The append step still probes them: the offer
    /// needs the authenticator's health.
    func testLoginProbesOnlyWhenTheAnswerCanDecide() throws {
        let records = ["alice": [platform("B1", on: hostB)], "carol": [platform("B9", on: hostB, revoked: true)]]
        let answers: [AuthenticatorSignal] = [
            .healthy(holding: [HeldCredentialSignal(id: "B1"), HeldCredentialSignal(id: "B9")]),
            .healthy(holding: [HeldCredentialSignal(id: "B9", locked: true)]),
            .broken("helper exited with status 3"), .unavailable("no TPM"),
        ]
        func gatherer(_ r: Recorder, _ answer: AuthenticatorSignal) -> SignalGatherer {
            SignalGatherer(registry: FakeRegistry(recorder: r, records: records), history: FakeHistory(recorder: r),
                           authenticator: FakeProbe(recorder: r, answer: answer),
                           accounts: FakeAccounts(recorder: r, uids: ["alice": 1000, "bob": 1001, "carol": 1002]), host: hostB)
        }
        var shapes: [String: [String]] = [:]
        for user in ["alice", "bob", "carol", "nobody-here"] {
            for answer in answers {
                let r = Recorder()
                let s = try gatherer(r, answer).gather(user: user, session: console, now: now, policy: Policy(), probe: .whenItCanDecide)
                shapes[user] = r.asked.map { String($0.split(separator: " ")[0]) }
                let probed = try gatherer(Recorder(), answer).gather(user: user, session: console, now: now, policy: Policy(), probe: .always)
                XCTAssertEqual(decideLogin(s, policy: Policy()), decideLogin(probed, policy: Policy()), "\(user), \(answer)")
                if user != "alice" { XCTAssertEqual(s.authenticator, .notProbed) }

                let append = Recorder()
                _ = try gatherer(append, answer).gather(user: user, session: console, now: now, policy: Policy())
                XCTAssertTrue(append.asked.contains("probe \(user)"), "the append step needs the authenticator: \(user)")
            }
        }
        // The login decision never looks the account up, and reads the history only for a
        // usable credential's snooze.
        XCTAssertEqual(shapes["alice"], ["registry", "history", "probe"])
        XCTAssertEqual(shapes["bob"], ["registry"])
        XCTAssertEqual(shapes["carol"], shapes["bob"])
        XCTAssertEqual(shapes["nobody-here"], shapes["bob"])

        let remote = Recorder()
        _ = try gatherer(remote, answers[0]).gather(user: "alice", session: ssh(from: "10.0.0.5"), now: now, policy: Policy(),
                                                    probe: .whenItCanDecide)
        XCTAssertFalse(remote.asked.contains("probe alice"))
    }

    /// A decision over an unprobed authenticator never prompts, even if the caller mixes up
    /// policies between gathering and deciding.
    func testNotProbedNeverPrompts() {
        let s = Scenario(credentials: [platform("B1", on: hostB)], authenticator: .notProbed)
        XCTAssertEqual(decideLogin(s.signals, policy: Policy()), .stepAside(.authenticatorUnavailable("the authenticator was not probed")))
        XCTAssertEqual(decideAppend(Scenario(authenticator: .notProbed).signals, policy: Policy()),
                       .noOffer(.authenticatorUnavailable("the authenticator was not probed")))
    }

    func testUnreadableRegistryIsATypedError() {
        let r = Recorder()
        XCTAssertThrowsError(try gatherer(r, registryFails: true).gather(user: "alice", session: console, now: now, policy: Policy())) { error in
            XCTAssertEqual(error as? GatherError, .registryUnreadable(user: "alice", detail: "permission denied"))
            XCTAssertTrue(String(describing: error).contains("registry_dir"), "names what to check: \(error)")
        }
        XCTAssertFalse(r.asked.contains("probe alice"), "no helper spawned after a failure")
    }

    func testUnreadableHistoryIsATypedError() {
        let r = Recorder()
        XCTAssertThrowsError(try gatherer(r, historyFails: true).gather(user: "alice", session: console, now: now, policy: Policy())) { error in
            XCTAssertEqual(error as? GatherError, .historyUnreadable(user: "alice", detail: "line 1: not JSON"))
        }
    }

    /// The real account database: tests run as root on a system with /etc/passwd.
    func testSystemAccountLookup() {
        let accounts = SystemAccountLookup()
        XCTAssertEqual(accounts.uid(of: try! UserName(validating: "root")), 0)
        XCTAssertNil(accounts.uid(of: try! UserName(validating: "no-such-user-pam-passkey-test")))
        // What could reach getpwnam_r wrongly never becomes a UserName: the empty name, and a
        // NUL that would truncate the name to an existing one.
        XCTAssertThrowsError(try UserName(validating: ""))
        XCTAssertThrowsError(try UserName(validating: "ro\0ot"))
    }

    /// The seed's case: every passkey of the user is bound to other hosts. The registry says so
    /// already; the helper is not spawned to hear it again, and the decision is the one a
    /// probe would have given (rule 5).
    func testCredentialsOnlyElsewhereNeedNoProbe() throws {
        let records = ["dave": [platform("A1", on: hostA), platform("C1", on: hostC)]]
        let r = Recorder()
        let g = SignalGatherer(registry: FakeRegistry(recorder: r, records: records), history: FakeHistory(recorder: r),
                               authenticator: FakeProbe(recorder: r, answer: .healthy(holding: [])),
                               accounts: FakeAccounts(recorder: r, uids: ["dave": 1003]), host: hostB)
        let s = try g.gather(user: "dave", session: console, now: now, policy: Policy(), probe: .whenItCanDecide)
        XCTAssertEqual(r.asked, ["registry dave"], "no probe, no history, no account")
        XCTAssertEqual(s.authenticator, .notProbed)
        let probed = try g.gather(user: "dave", session: console, now: now, policy: Policy(), probe: .always)
        XCTAssertEqual(decideLogin(s, policy: Policy()), decideLogin(probed, policy: Policy()))
        guard case .stepAside(.credentialsElsewhere) = decideLogin(s, policy: Policy()) else {
            return XCTFail("\(decideLogin(s, policy: Policy()))")
        }
    }
}
