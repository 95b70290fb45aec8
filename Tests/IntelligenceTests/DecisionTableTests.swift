import Identifiers
import IdentifierLiterals
import HostState
import Intelligence
import Registry
import Policy
import XCTest

/// The decision table (docs/ARCHITECTURE.md), row by row and in combination: each row is a situation, the
/// login decision, the line the user sees, and the append decision after a password.
final class DecisionTableTests: XCTestCase {
    struct Row {
        let name: String
        let scenario: Scenario
        var settings: [String: String] = [:]
        let login: LoginDecision
        let message: String?
        let append: AppendDecision
    }

    static let held = AuthenticatorSignal.healthy(holding: [HeldCredentialSignal(id: "B1")])
    static let heldLocked = AuthenticatorSignal.healthy(holding: [HeldCredentialSignal(id: "B1", locked: true)])
    static let plain = Scenario()
    static let withLocal = Scenario(credentials: [platform("B1", on: hostB)], authenticator: held)
    static let elsewhere = Scenario(credentials: [platform("A1", on: hostA, lastUsed: now - 5 * day),
                                                  platform("C1", on: hostC, lastUsed: now - 1 * day)])
    static let elsewhereMessage = "Your passkeys are on other computers (host-c, host-a)."

    static let rows: [Row] = [
        // Rule 1.
        Row(name: "no credentials, console", scenario: plain,
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "unknown user", scenario: plain.with { $0.user = "alcie"; $0.uid = nil },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.unknownAccount)),
        Row(name: "only revoked credentials, one still held here",
            scenario: plain.with {
                $0.credentials = [platform("B1", on: hostB, revoked: true), platform("A1", on: hostA, revoked: true)]
                $0.authenticator = held
            },
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),

        // Rule 2.
        Row(name: "no conversation", scenario: withLocal.with { $0.session.hasConversation = false },
            login: .stepAside(.noConversation), message: nil, append: .noOffer(.noConversation)),
        Row(name: "non-interactive service", scenario: withLocal.with { $0.session = SessionSignal(service: "cron") },
            login: .stepAside(.nonInteractiveService("cron")), message: nil, append: .noOffer(.nonInteractiveService("cron"))),
        Row(name: "non-interactive service from policy", scenario: plain.with { $0.session.service = "backup" },
            settings: ["noninteractive_services": "backup"],
            login: .stepAside(.nonInteractiveService("backup")), message: nil, append: .noOffer(.nonInteractiveService("backup"))),
        Row(name: "no conversation beats remote", scenario: plain.with { $0.session = ssh(from: "10.0.0.5"); $0.session.hasConversation = false },
            login: .stepAside(.noConversation), message: nil, append: .noOffer(.noConversation)),

        // The program runs as a user (a screen locker), not as root.
        Row(name: "screen locker of the user, credential held here", scenario: withLocal.with { $0.session.callerUID = 1000 },
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.unprivilegedCaller(uid: 1000))),
        Row(name: "screen locker of the user, no credentials: never an offer", scenario: plain.with { $0.session.callerUID = 1000 },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.unprivilegedCaller(uid: 1000))),
        Row(name: "screen locker of another user asking for this one", scenario: withLocal.with { $0.session.callerUID = 1001 },
            login: .stepAside(.otherAccount(callerUID: 1001)), message: nil, append: .noOffer(.unprivilegedCaller(uid: 1001))),
        Row(name: "screen locker asking for an unknown name", scenario: withLocal.with { $0.session.callerUID = 1001; $0.uid = nil },
            login: .stepAside(.otherAccount(callerUID: 1001)), message: nil, append: .noOffer(.unprivilegedCaller(uid: 1001))),

        // Rule 3.
        Row(name: "remote, no credential", scenario: plain.with { $0.session = ssh(from: "10.0.0.5") },
            login: .stepAside(.remoteSession(rhost: "10.0.0.5")), message: nil, append: .noOffer(.remoteSession(rhost: "10.0.0.5"))),
        Row(name: "remote, credential held here", scenario: withLocal.with { $0.session = ssh(from: "2001:db8::7") },
            login: .stepAside(.remoteSession(rhost: "2001:db8::7")), message: nil, append: .noOffer(.remoteSession(rhost: "2001:db8::7"))),
        Row(name: "remote, credentials elsewhere: no hint to a remote user", scenario: elsewhere.with { $0.session = ssh(from: "10.0.0.5") },
            login: .stepAside(.remoteSession(rhost: "10.0.0.5")), message: nil, append: .noOffer(.remoteSession(rhost: "10.0.0.5"))),
        Row(name: "remote allowed, credential held here", scenario: withLocal.with { $0.session = ssh(from: "10.0.0.5") },
            settings: ["remote_sessions": "allow"],
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "remote allowed, no credential", scenario: plain.with { $0.session = ssh(from: "10.0.0.5") },
            settings: ["remote_sessions": "allow"],
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "ssh from loopback is still ssh (forwarded connections): remote", scenario: withLocal.with { $0.session = ssh(from: "127.0.0.1") },
            login: .stepAside(.remoteSession(rhost: "127.0.0.1")), message: nil, append: .noOffer(.remoteSession(rhost: "127.0.0.1"))),
        Row(name: "loopback rhost from a local program counts as local",
            scenario: withLocal.with { $0.session = SessionSignal(service: "login", rhost: "127.0.0.1", tty: "pts/3") },
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "localhost rhost, no credential: offered", scenario: plain.with { $0.session = SessionSignal(service: "xscreensaver", rhost: "localhost") },
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),

        // Rule 4.
        Row(name: "credential held here", scenario: withLocal,
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "held here although registered under an old host id",
            scenario: withLocal.with { $0.credentials = [platform("B1", on: HostSignal(id: "0ld1d", name: "host-b"))] },
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "one locked, one usable here: prompt only the usable one",
            scenario: withLocal.with {
                $0.credentials = [platform("B1", on: hostB), platform("B2", on: hostB)]
                $0.authenticator = .healthy(holding: [HeldCredentialSignal(id: "B1", locked: true), HeldCredentialSignal(id: "B2")])
            },
            login: .passkey(credentialIDs: ["B2"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "passkey in sudo", scenario: withLocal.with { $0.session = SessionSignal(service: "sudo", tty: "/dev/pts/1") },
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.skippedService("sudo"))),
        Row(name: "held credential is revoked: not used, offered anew",
            scenario: withLocal.with { $0.credentials = [platform("B1", on: hostB, revoked: true), platform("A1", on: hostA)] },
            login: .stepAside(.credentialsElsewhere(hosts: ["host-a"], securityKeys: 0)),
            message: "Your passkey is on another computer (host-a).", append: .offer(.create)),
        Row(name: "outside rollout, credential held here: rollout gates offers only", scenario: withLocal,
            settings: ["rollout_percent": "0"],
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.outsideRollout(bucket: 7, percent: 0))),

        // Rule 5.
        Row(name: "credentials on other hosts", scenario: elsewhere,
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: elsewhereMessage, append: .offer(.create)),
        Row(name: "revoked credentials are not listed",
            scenario: elsewhere.with { $0.credentials.append(platform("D1", on: HostSignal(id: "d", name: "host-d"), lastUsed: now, revoked: true)) },
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: elsewhereMessage, append: .offer(.create)),
        Row(name: "only a security key", scenario: plain.with { $0.credentials = [securityKey("K1")] },
            login: .stepAside(.credentialsElsewhere(hosts: [], securityKeys: 1)),
            message: "Your passkey is on a security key that is not plugged in.", append: .offer(.create)),
        Row(name: "a security key plugged in that holds the passkey",
            scenario: plain.with {
                $0.credentials = [securityKey("K1")]
                $0.securityKeys = .probed(present: 1, holding: [HeldCredentialSignal(id: "K1")])
            },
            login: .passkey(credentialIDs: ["K1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "a security key plugged in that holds another user's passkeys",
            scenario: plain.with {
                $0.credentials = [securityKey("K1")]
                $0.securityKeys = .probed(present: 1, holding: [])
            },
            login: .stepAside(.credentialsElsewhere(hosts: [], securityKeys: 1)),
            message: "Your passkey is on a security key that is not plugged in.", append: .offer(.create)),
        Row(name: "the security key holding the passkey has blocked its PIN",
            scenario: plain.with {
                $0.credentials = [securityKey("K1")]
                $0.securityKeys = .probed(present: 1, holding: [HeldCredentialSignal(id: "K1", locked: true)])
            },
            login: .stepAside(.securityKeyBlocked(["K1"])),
            message: "Your security key's PIN is blocked after too many wrong PINs.", append: .offer(.create)),
        Row(name: "a host passkey and a plugged-in key: the host's first",
            scenario: plain.with {
                $0.credentials = [securityKey("K1"), platform("B1", on: hostB)]
                $0.authenticator = .healthy(holding: [HeldCredentialSignal(id: "B1")])
                $0.securityKeys = .probed(present: 1, holding: [HeldCredentialSignal(id: "K1")])
            },
            login: .passkey(credentialIDs: ["K1", "B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "earlier installation of this host",
            scenario: plain.with { $0.credentials = [platform("O1", on: HostSignal(id: "0ld1d", name: "host-b"))] },
            login: .stepAside(.credentialsElsewhere(hosts: ["an earlier installation of host-b"], securityKeys: 0)),
            message: "Your passkey is on another computer (an earlier installation of host-b).", append: .offer(.create)),
        Row(name: "elsewhere, authenticator broken: no offer", scenario: elsewhere.with { $0.authenticator = .broken("helper exited with status 70") },
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: elsewhereMessage, append: .noOffer(.authenticatorBroken("helper exited with status 70"))),
        Row(name: "elsewhere, PAM_SILENT: no line, no offer", scenario: elsewhere.with { $0.session.silent = true },
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: nil, append: .noOffer(.silent)),

        // Rule 6.
        Row(name: "locked here, credentials on other hosts: lock reason, heal offer",
            scenario: elsewhere.with { $0.credentials.append(platform("B1", on: hostB)); $0.authenticator = heldLocked },
            login: .stepAside(.credentialLocked(["B1"])),
            message: "Your passkey for this computer is locked after too many wrong PINs.",
            append: .offer(.replace(credentialIDs: ["B1"], cause: .locked))),
        Row(name: "bound here but not held: state lost", scenario: plain.with { $0.credentials = [platform("B1", on: hostB), platform("A1", on: hostA)] },
            login: .stepAside(.credentialMissing(["B1"])), message: "Your passkey for this computer is no longer on it.",
            append: .offer(.replace(credentialIDs: ["B1"], cause: .missing))),
        Row(name: "bound here, authenticator broken", scenario: withLocal.with { $0.authenticator = .broken("helper timed out after 10s") },
            login: .stepAside(.authenticatorBroken("helper timed out after 10s")),
            message: "Passkeys are not working on this computer right now.",
            append: .noOffer(.authenticatorBroken("helper timed out after 10s"))),
        Row(name: "bound here, no authenticator", scenario: withLocal.with { $0.authenticator = .unavailable("no TPM at /dev/tpmrm0") },
            login: .stepAside(.authenticatorUnavailable("no TPM at /dev/tpmrm0")),
            message: "Passkeys are not working on this computer right now.",
            append: .noOffer(.authenticatorUnavailable("no TPM at /dev/tpmrm0"))),
        Row(name: "no credentials, no authenticator", scenario: plain.with { $0.authenticator = .unavailable("authenticator = tpm, no TPM") },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.authenticatorUnavailable("authenticator = tpm, no TPM"))),
        Row(name: "locked, but the user said never here", scenario: withLocal.with { $0.authenticator = heldLocked; $0.history.host.neverSince = now - 40 * day },
            login: .stepAside(.credentialLocked(["B1"])), message: "Your passkey for this computer is locked after too many wrong PINs.",
            append: .noOffer(.declinedNever(since: now - 40 * day))),
        Row(name: "locked, remote: remote wins", scenario: withLocal.with { $0.authenticator = heldLocked; $0.session = ssh(from: "10.1.1.1") },
            login: .stepAside(.remoteSession(rhost: "10.1.1.1")), message: nil, append: .noOffer(.remoteSession(rhost: "10.1.1.1"))),

        // Rule 7.
        Row(name: "cancel threshold reached", scenario: withLocal.with { $0.history.host = HostHistory(consecutiveCancels: 3, lastCancel: now - hour) },
            login: .stepAside(.cancelSnooze(cancels: 3, until: now - hour + day)),
            message: "Passkey paused after 3 cancelled PIN prompts.", append: .noOffer(.credentialHere)),
        Row(name: "cancel snooze expired", scenario: withLocal.with { $0.history.host = HostHistory(consecutiveCancels: 3, lastCancel: now - day - 1) },
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "cancels below threshold", scenario: withLocal.with { $0.history.host = HostHistory(consecutiveCancels: 2, lastCancel: now - 60) },
            login: .passkey(credentialIDs: ["B1"]), message: nil, append: .noOffer(.credentialHere)),
        Row(name: "cancel threshold and snooze from policy", scenario: withLocal.with { $0.history.host = HostHistory(consecutiveCancels: 1, lastCancel: now - 2 * hour) },
            settings: ["cancel_threshold": "1", "cancel_snooze": "3h"],
            login: .stepAside(.cancelSnooze(cancels: 1, until: now + hour)),
            message: "Passkey paused after 1 cancelled PIN prompts.", append: .noOffer(.credentialHere)),
        Row(name: "cancels do not matter without a usable credential", scenario: elsewhere.with { $0.history.host = HostHistory(consecutiveCancels: 5, lastCancel: now - 60) },
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: elsewhereMessage, append: .offer(.create)),

        // Rule 8.
        Row(name: "append = no", scenario: plain, settings: ["append": "no"],
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.appendDisabled)),
        Row(name: "su", scenario: plain.with { $0.session = SessionSignal(service: "su", tty: "/dev/pts/0") },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.skippedService("su"))),
        Row(name: "sudo-i", scenario: elsewhere.with { $0.session = SessionSignal(service: "sudo-i", tty: "/dev/pts/0") },
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: elsewhereMessage, append: .noOffer(.skippedService("sudo-i"))),
        Row(name: "skip list from policy", scenario: plain.with { $0.session.service = "gdm-password" },
            settings: ["append_skip_services": "gdm-password"],
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.skippedService("gdm-password"))),
        Row(name: "skip list none: sudo is offered", scenario: plain.with { $0.session = SessionSignal(service: "sudo", tty: "/dev/pts/0") },
            settings: ["append_skip_services": "none"],
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "uid below min_uid", scenario: plain.with { $0.uid = 999 },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.systemAccount(uid: 999, minUID: 1000))),
        Row(name: "root", scenario: plain.with { $0.user = "root"; $0.uid = 0 },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.systemAccount(uid: 0, minUID: 1000))),
        Row(name: "min_uid = 0 lets root be offered", scenario: plain.with { $0.user = "root"; $0.uid = 0 },
            settings: ["min_uid": "0"],
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "said never on this host", scenario: plain.with { $0.history.host.neverSince = now - 200 * day },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.declinedNever(since: now - 200 * day))),
        Row(name: "said n 3 days ago", scenario: plain.with { $0.history.offers.lastDeclined = now - 3 * day },
            login: .stepAside(.noCredentials), message: nil,
            append: .noOffer(.snoozed(declinedAt: now - 3 * day, until: now + 11 * day))),
        Row(name: "said n 15 days ago", scenario: plain.with { $0.history.offers.lastDeclined = now - 15 * day },
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "said n 3 days ago, append_snooze_days = 2", scenario: plain.with { $0.history.offers.lastDeclined = now - 3 * day },
            settings: ["append_snooze_days": "2"],
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "three offers in 30 days", scenario: plain.with {
                $0.history.offers.recent = [
                    OfferRecord(time: now - 29 * day, hostName: "host-a", service: "login", answer: .accepted),
                    OfferRecord(time: now - 20 * day, hostName: "host-c", service: "login", answer: .unanswered),
                    OfferRecord(time: now - 2 * day, hostName: "host-b", service: "gdm-password", answer: .accepted),
                ]
            },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.offerLimit(offers: 3, max: 3))),
        Row(name: "three offers, the oldest 30 days ago", scenario: plain.with {
                $0.history.offers.recent = [
                    OfferRecord(time: now - 30 * day, hostName: "host-a", service: "login", answer: .accepted),
                    OfferRecord(time: now - 20 * day, hostName: "host-c", service: "login", answer: .accepted),
                    OfferRecord(time: now - 2 * day, hostName: "host-b", service: "gdm-password", answer: .accepted),
                ]
            },
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "three unanswered offers in a row, long ago", scenario: plain.with { $0.history.offers.unansweredInARow = 3 },
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.unansweredOffers(count: 3, max: 3))),
        Row(name: "four unanswered, append_max_offers = 5", scenario: plain.with { $0.history.offers.unansweredInARow = 4 },
            settings: ["append_max_offers": "5"],
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "append_max_offers = 0", scenario: plain, settings: ["append_max_offers": "0"],
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.offerLimit(offers: 0, max: 0))),
        Row(name: "rollout out, no credentials", scenario: plain, settings: ["rollout_percent": "7"],
            login: .stepAside(.noCredentials), message: nil, append: .noOffer(.outsideRollout(bucket: 7, percent: 7))),
        Row(name: "rollout in, no credentials", scenario: plain, settings: ["rollout_percent": "8"],
            login: .stepAside(.noCredentials), message: nil, append: .offer(.create)),
        Row(name: "rollout out, credentials elsewhere", scenario: elsewhere.with { $0.user = "bob" }, settings: ["rollout_percent": "50"],
            login: .stepAside(.credentialsElsewhere(hosts: ["host-c", "host-a"], securityKeys: 0)),
            message: elsewhereMessage, append: .noOffer(.outsideRollout(bucket: 50, percent: 50))),
    ]

    func testEveryRow() {
        for row in Self.rows {
            let p = policy(row.settings)
            let signals = row.scenario.signals
            let login = decideLogin(signals, policy: p)
            XCTAssertEqual(login, row.login, "login: \(row.name)")
            XCTAssertEqual(login.userMessage(session: signals.session), row.message, "message: \(row.name)")
            XCTAssertEqual(decideAppend(signals, policy: p), row.append, "append: \(row.name)")
        }
    }

    /// No account probing: for every kind of session, a name without an account gets the same
    /// decision and the same words as a real user who has no passkey.
    func testUnknownUserLooksLikeUserWithoutPasskeys() {
        let sessions = [console, ssh(from: "10.0.0.5"), ssh(from: "::1"), SessionSignal(service: "cron"),
                        SessionSignal(service: "sudo", tty: "/dev/pts/2"), SessionSignal(service: "login", silent: true)]
        for settings in [[:], ["remote_sessions": "allow"]] {
            let p = policy(settings)
            for session in sessions {
                let known = Scenario(user: "alice", uid: 1000, session: session).signals
                let unknown = Scenario(user: "alicee", uid: nil, session: session).signals
                let a = decideLogin(known, policy: p), b = decideLogin(unknown, policy: p)
                XCTAssertEqual(a, b, "\(session.service) \(settings)")
                XCTAssertEqual(a.code, b.code)
                XCTAssertEqual(a.summary, b.summary)
                XCTAssertEqual(a.userMessage(session: session), b.userMessage(session: session))
            }
        }
    }

    /// The reinstall story on one host: the registry still says host-b, the new authenticator
    /// holds nothing — step aside, heal after the password, then a passkey login.
    func testHealAfterStateLoss() {
        let p = Policy()
        var s = Scenario(credentials: [platform("B1", on: hostB)], authenticator: .healthy(holding: []))
        XCTAssertEqual(decideLogin(s.signals, policy: p), .stepAside(.credentialMissing(["B1"])))
        guard case .offer(.replace(let ids, .missing)) = decideAppend(s.signals, policy: p) else {
            return XCTFail("expected a replace offer")
        }
        s.history.recordOffer(answer: .accepted, service: "login", hostName: "host-b", at: now)
        s.credentials = s.credentials.map { ids.contains($0.id) ? platform($0.id, on: hostB, revoked: true) : $0 }
        s.credentials.append(platform("B2", on: hostB))
        s.authenticator = .healthy(holding: [HeldCredentialSignal(id: "B2")])
        s.now += day
        XCTAssertEqual(decideLogin(s.signals, policy: p), .passkey(credentialIDs: ["B2"]))
    }

    func testStepAsideMessagesNameAtMostThreeHosts() {
        let hosts = (1...5).map { HostSignal(id: "id\($0)", name: "ws\($0)") }
        let s = Scenario(credentials: hosts.enumerated().map { platform(CredentialID(tag: "X\($0.offset)"), on: $0.element, lastUsed: now - Int64($0.offset) * day) })
        let login = decideLogin(s.signals, policy: Policy())
        XCTAssertEqual(login.userMessage(session: console), "Your passkeys are on other computers (ws1, ws2, ws3, 2 more).")
        // The administrator's summary names them all.
        XCTAssertTrue(login.summary.contains("ws1, ws2, ws3, ws4, ws5"), login.summary)
    }

    func testReasonCodesAreDistinctSnakeCase() {
        let stepAside: [StepAsideReason] = [.noConversation, .nonInteractiveService("cron"), .remoteSession(rhost: "x"),
            .otherAccount(callerUID: 1001), .noCredentials, .credentialsElsewhere(hosts: ["a"], securityKeys: 0), .credentialLocked(["i"]),
            .credentialMissing(["i"]), .authenticatorUnavailable("d"), .authenticatorBroken("d"),
            .cancelSnooze(cancels: 3, until: now)]
        let noOffer: [NoOfferReason] = [.appendDisabled, .noConversation, .nonInteractiveService("c"), .silent,
            .remoteSession(rhost: "x"), .unprivilegedCaller(uid: 1000), .skippedService("su"), .unknownAccount, .systemAccount(uid: 1, minUID: 1000),
            .outsideRollout(bucket: 9, percent: 5), .authenticatorUnavailable("d"), .authenticatorBroken("d"),
            .credentialHere, .declinedNever(since: now), .snoozed(declinedAt: now, until: now), .unansweredOffers(count: 3, max: 3),
            .offerLimit(offers: 3, max: 3)]
        for codes in [stepAside.map(\.code), noOffer.map(\.code)] {
            XCTAssertEqual(Set(codes).count, codes.count, "\(codes)")
            for code in codes {
                XCTAssertTrue(code.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) }, code)
            }
        }
        XCTAssertEqual(stepAside.filter(\.isFault).map(\.code), ["authenticator_unavailable", "authenticator_broken"])
        for r in stepAside { XCTAssertFalse(r.summary.isEmpty) }
        for r in noOffer { XCTAssertFalse(r.summary.isEmpty) }
    }

    /// The bucket is SHA-256 of the name, reproducible with coreutils:
    /// `printf %s alice | sha256sum | cut -c1-16` = 0x…, mod 100 = 7.
    func testRolloutBucketMatchesSha256sum() {
        XCTAssertEqual(rolloutBucket(user: "alice"), 7)
        XCTAssertEqual(rolloutBucket(user: "bob"), 50)
        XCTAssertEqual(rolloutBucket(user: "user0001"), 59)
        // Spread: 10,000 similar names land in every bucket, none with more than twice its share.
        var counts = [Int](repeating: 0, count: 100)
        for i in 0..<10_000 { counts[rolloutBucket(user: "user\(i)")] += 1 }
        XCTAssertGreaterThan(counts.min()!, 50)
        XCTAssertLessThan(counts.max()!, 200)
    }

    func testOfferPromptsAskYesNoNever() {
        for offer in [AppendOffer.create, .replace(credentialIDs: ["B1"], cause: .locked), .replace(credentialIDs: ["B1"], cause: .missing)] {
            XCTAssertTrue(offer.prompt.hasSuffix("[Y/n/never] "), offer.prompt)
        }
        XCTAssertEqual(AppendOffer.create.code, "create")
        XCTAssertEqual(AppendOffer.replace(credentialIDs: ["x"], cause: .locked).code, "replace_locked")
    }

    /// The session rules are written once (`sessionStepAside`): the login step and the append
    /// step give the same reason, with the same code, for every session that decides alone.
    func testTheSessionDecidesTheSameWayForTheLoginAndTheOffer() {
        let sessions: [(SessionSignal, String)] = [
            (SessionSignal(service: "login", hasConversation: false), "no_conversation"),
            (SessionSignal(service: "cron"), "noninteractive_service"),
            (ssh(from: "10.0.0.5"), "remote_session"),
        ]
        for (session, code) in sessions {
            let signals = Scenario(session: session).signals
            guard case .stepAside(let login) = decideLogin(signals, policy: Policy()),
                  case .noOffer(let append) = decideAppend(signals, policy: Policy()) else {
                return XCTFail("\(session)")
            }
            XCTAssertEqual([login.code, append.code], [code, code], "\(session)")
        }
    }

    /// "This host's credentials" is one rule (CredentialStatus), for the decision and for
    /// passkeyctl enroll: held here, or registered here, whether it works or not.
    func testWhichCredentialsAreThisHostsIsOneRule() {
        let healthy = AuthenticatorSignal.healthy(holding: [HeldCredentialSignal(id: "H1"), HeldCredentialSignal(id: "L1", locked: true)])
        let cases: [(CredentialSignal, AuthenticatorSignal, CredentialStatus)] = [
            (platform("H1", on: hostA), healthy, .usable),           // held here, made elsewhere (host id changed)
            (platform("L1", on: hostB), healthy, .locked),
            (platform("M1", on: hostB), healthy, .missing),
            (platform("M1", on: hostB), .unavailable("no TPM"), .unreachable),
            (platform("E1", on: hostA), healthy, .elsewhere),
            (platform("R1", on: hostB, revoked: true), healthy, .revoked),
        ]
        for (credential, authenticator, status) in cases {
            let got = CredentialStatus(of: credential, hostID: hostB.id, authenticator: authenticator)
            XCTAssertEqual(got, status, credential.id.text)
            XCTAssertEqual(got.isThisHosts, [.usable, .locked, .missing, .unreachable].contains(status), credential.id.text)
        }
    }
}
