import HostState
import Intelligence
import Registry
import Policy
import XCTest
import Identifiers
import IdentifierLiterals

/// 2026-01-11 00:00 UTC.
let now: Int64 = 1_767_225_600 + 10 * 86_400
let hour: Int64 = 3600
let day: Int64 = 86_400

let hostA = HostSignal(id: "4f1c9e0a7b", name: "host-a")
/// This host in every scenario.
let hostB = HostSignal(id: "b27d5c3e90", name: "host-b")
let hostC = HostSignal(id: "c85e0f6d21", name: "host-c")

func platform(_ id: CredentialID, on host: HostSignal, lastUsed: Int64? = nil, revoked: Bool = false) -> CredentialSignal {
    CredentialSignal(id: id, hostID: host.id, hostName: host.name, revoked: revoked, created: now - 20 * day, lastUsed: lastUsed)
}

func securityKey(_ id: CredentialID) -> CredentialSignal {
    CredentialSignal(id: id, kind: .roaming, hostID: nil, hostName: nil, transports: ["usb"], created: now - 20 * day)
}

let console = SessionSignal(service: "login", tty: "tty1")
func ssh(from rhost: String) -> SessionSignal { SessionSignal(service: "sshd", rhost: rhost, tty: "ssh") }

/// A user and everything around them on host-b; each field defaults to the plain case.
struct Scenario {
    var user = "alice"
    var uid: UInt32? = 1000
    var credentials: [CredentialSignal] = []
    var authenticator = AuthenticatorSignal.healthy(holding: [])
    var securityKeys = SecurityKeySignal.notProbed
    var session = console
    var history = History()
    var now = Intelligence_now

    var signals: Signals {
        Signals(user: user, uid: uid, credentials: credentials, host: hostB, authenticator: authenticator,
                securityKeys: securityKeys, session: session, history: history, now: now)
    }

    func with(_ change: (inout Scenario) -> Void) -> Scenario {
        var copy = self
        change(&copy)
        return copy
    }
}

/// `now` under another name, for default arguments inside types that also say `now`.
let Intelligence_now = now

/// Policy from `key = value` pairs as the file would give them; fails the test on a bad one.
func policy(_ settings: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> Policy {
    var p = Policy(source: "test")
    for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
        XCTAssertTrue(p.set(key, text: value), "policy \(key) = \(value) rejected", file: file, line: line)
    }
    return p
}
