import HostState
import Intelligence
import Registry
import Identifiers

/// A key in a simulated host authenticator. Like the real one it counts wrong PINs and locks
/// at `pin_max_attempts`, and only a successful PIN resets the count.
struct SimKey {
    let user: Int
    var failures = 0
    var locked = false
}

/// One machine of the fleet: its identity, its authenticator's key store, and its users'
/// history. Reinstalling gives it a new host id and loses everything it held, as on a real
/// machine.
struct SimHost {
    let name: String
    var generation = 1
    /// No authenticator at all (a VM without a TPM, say): never a passkey, never an offer.
    let hasAuthenticator: Bool
    /// The day its authenticator fails (helper crashing): probes report it broken.
    var brokenOnDay = -1
    var keys: [CredentialID: SimKey] = [:]
    var keysOfUser: [Int: [CredentialID]] = [:]
    var history: [Int: HostHistory] = [:]

    var id: String { "\(name)-gen\(generation)" }
    var identity: HostSignal { HostSignal(id: id, name: name) }

    /// What the helper's probe reports for `user`.
    func probe(user: Int, day: Int) -> AuthenticatorSignal {
        guard hasAuthenticator else { return .unavailable("no TPM at /dev/tpmrm0 (authenticator = tpm)") }
        if brokenOnDay == day { return .broken("helper exited with status 70: key store unreadable") }
        return .healthy(holding: (keysOfUser[user] ?? []).map { HeldCredentialSignal(id: $0, locked: keys[$0]?.locked ?? false) })
    }

    /// Whether a getAssertion with `id` for `user` would succeed here now, given the right PIN
    /// — asked of the key store itself, not of the probe, to count dead ends independently.
    func canSign(_ id: CredentialID, user: Int, day: Int) -> Bool {
        guard hasAuthenticator, brokenOnDay != day, let key = keys[id] else { return false }
        return key.user == user && !key.locked
    }

    mutating func add(_ id: CredentialID, user: Int) {
        keys[id] = SimKey(user: user)
        keysOfUser[user, default: []].append(id)
    }

    mutating func remove(_ id: CredentialID) {
        guard let key = keys.removeValue(forKey: id) else { return }
        keysOfUser[key.user]?.removeAll { $0 == id }
    }

    /// The state directory is gone: keys, PIN counters, history.
    mutating func loseState() {
        keys = [:]
        keysOfUser = [:]
        history = [:]
    }
}

/// How a person answers the offer and treats the PIN prompt.
struct Temperament {
    /// Weights for accepted, declined, never, unanswered (OfferAnswer.allCases order).
    let answers: [Double]
    /// Chance of answering a PIN prompt with nothing ("just use my password").
    let cancelRate: Double

    static let eager = Temperament(answers: [0.80, 0.12, 0.01, 0.07], cancelRate: 0.02)
    static let hesitant = Temperament(answers: [0.35, 0.45, 0.08, 0.12], cancelRate: 0.05)
    static let refuser = Temperament(answers: [0.05, 0.45, 0.40, 0.10], cancelRate: 0.10)
    /// Has a passkey but keeps reaching for the password: drives rule 7.
    static let passwordHabit = Temperament(answers: [0.50, 0.35, 0.05, 0.10], cancelRate: 0.60)
}

struct SimUser {
    let name: String
    let uid: UInt32
    let temperament: Temperament
    /// The machine they sit at most days.
    var primary: Int
    /// Other machines they sometimes sit at (a lab, a meeting room, the old desk).
    var secondaries: [Int]
    /// Machines they reach over ssh.
    var servers: [Int]
    /// In a spell of typing the wrong PIN.
    var forgettingPIN = false
    var offerTimes: [Int64] = []
}

/// How one session comes about.
enum SessionKind: CaseIterable {
    /// Console or graphical login, or a screen unlock, at the machine.
    case console
    /// ssh from another machine.
    case sshRemote
    /// `ssh localhost` at the machine.
    case sshLoopback
    case sudo
    case su
    /// No conversation: a service that should never prompt.
    case cron

    var isInteractive: Bool { self != .cron }
    var isRemote: Bool { self == .sshRemote }
}

struct PlannedSession {
    let time: Int64
    let user: Int
    let host: Int
    let kind: SessionKind
}
