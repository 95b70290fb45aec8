#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import HostState
import Intelligence
import Policy
import Registry
import Storage
import WebAuthn

/// This host as configured: the policy and everything built from it. The module builds one
/// per PAM call (nothing is cached between calls inside someone else's process); passkeyctl
/// builds one per command.
public struct Site {
    public let policyPath: String
    public let policy: Policy
    public let warnings: [PolicyWarning]
    public let host: HostIdentity
    public let registry: FileRegistry
    public let history: HistoryStore
    public let relyingParty: RelyingParty

    /// Whether this process runs as root (effective uid 0: login, sshd, su, sudo). One that
    /// does not (a screen locker) reads the policy and the registry, which are world-readable,
    /// and neither reads nor writes this host's state (root only): the setuid helper uses the
    /// caller's own passkeys on its behalf.
    public let isRoot: Bool

    public enum LoadError: Error, CustomStringConvertible {
        case policy(PolicyLoadError)
        case hostIdentity(HostIdentityError)
        /// Not root, and the policy is not the system's: the setuid helper would not follow it.
        case policyNeedsRoot(path: String, uid: UInt32)

        public var description: String {
            switch self {
            case .policy(let e): return "policy file unusable, stepping aside: \(e)"
            case .hostIdentity(let e): return "host identity unavailable: \(e)"
            case .policyNeedsRoot(let path, let uid):
                return "conf=\(path) is honoured only in programs that run as root; this one runs as uid \(uid), and the "
                    + "setuid helper then reads \(Policy.systemPath) only: remove conf= from this stack, stepping aside"
            }
        }
    }

    public static func load(policyPath: String) throws(LoadError) -> Site {
        let policy: Policy
        let warnings: [PolicyWarning]
        do { (policy, warnings) = try Policy.load(path: policyPath) } catch { throw .policy(error) }
        let host: HostIdentity
        do { host = try HostIdentity.load(hostIDFile: policy[.hostIDFile], configuredName: policy[.hostName]) } catch {
            throw .hostIdentity(error)
        }
        let registry = FileRegistry(directory: policy[.registryDir])
        guard let helper = HelperClient.forThisProcess(program: policy[.helper], policyPath: policyPath,
                                                       systemPolicyPath: Policy.systemPath,
                                                       timeoutSeconds: policy[.helperTimeout]) else {
            throw .policyNeedsRoot(path: policyPath, uid: geteuid())
        }
        return Site(policyPath: policyPath, policy: policy, warnings: warnings, host: host, registry: registry,
                    history: HistoryStore(stateDirectory: policy[.stateDir]),
                    relyingParty: RelyingParty(policy: policy, host: host, registry: registry, helper: helper,
                                               helperRecordsUse: geteuid() != 0),
                    isRoot: geteuid() == 0)
    }

    /// The decision's inputs for `user` in `session`, and the registry records they came from
    /// (the ceremonies need the public keys; nothing is read twice).
    public struct Gathered {
        public let signals: Signals
        public let credentials: [CredentialRecord]
    }

    public func signals(for user: UserName, session: SessionSignal, probe: ProbeRule = .unlessSessionDecides) throws(GatherError) -> Gathered {
        let stored = StoredState(registry: registry, history: isRoot ? history : nil)
        let gatherer = SignalGatherer(credentials: stored, history: stored, authenticator: HelperProbe(relyingParty: relyingParty),
                                      accounts: SystemAccountLookup(), host: HostSignal(id: host.hostID, name: host.hostName))
        let signals = try gatherer.gather(user: user.rawValue, session: session, now: relyingParty.now(), policy: policy, probe: probe)
        return Gathered(signals: signals, credentials: stored.lastRead?.credentials ?? [])
    }
}

/// The registry and the host history as the decision's `CredentialSource` and
/// `HistorySource`. The user's registry record holds both the credentials and the offer log:
/// it is read once per gathering (one file, one consistent view), not once per question.
final class StoredState: CredentialSource, HistorySource {
    let registry: FileRegistry
    /// nil when this process cannot read the host state (not root): no cancels, no "never".
    let history: HistoryStore?
    /// The record read for the last question (the ceremonies reuse it).
    private(set) var lastRead: UserRecord?

    init(registry: FileRegistry, history: HistoryStore?) {
        self.registry = registry
        self.history = history
    }

    private func record(_ name: UserName) throws -> UserRecord {
        if let r = lastRead, r.user == name.rawValue { return r }
        let r = try registry.record(for: name)
        lastRead = r
        return r
    }

    func credentials(of user: String) throws -> [CredentialSignal] {
        // A name that cannot be a file name cannot have a record: exactly like an unknown user.
        guard let name = try? UserName(validating: user) else { return [] }
        return try record(name).credentials.map(CredentialSignal.init(record:))
    }

    func history(of user: String) throws -> History {
        guard let name = try? UserName(validating: user) else { return History() }
        let offers = try record(name).offers ?? OfferLog()
        return History(host: try history?.history(for: name).host ?? HostHistory(), offers: offers)
    }
}

extension CredentialSignal {
    /// Host names come from the shared registry, so whoever can write it chooses them; they
    /// are shown to users ("Your passkey is on …") and written to syslog. Only printable text
    /// passes, and at most 64 characters of it.
    static func displayName(_ name: String) -> String {
        let printable = name.unicodeScalars.filter { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: return false
            default: return true
            }
        }
        let text = String(String.UnicodeScalarView(printable)).trimmingWhitespace()
        if text.isEmpty { return "an unnamed computer" }
        return text.count > 64 ? String(text.prefix(63)) + "…" : text
    }

    public init(record r: CredentialRecord) {
        self.init(id: r.id, kind: r.kind == .platform ? .platform : .roaming,
                  hostID: r.kind == .platform ? r.hostID : nil, hostName: r.kind == .platform ? Self.displayName(r.hostName) : nil,
                  backupEligible: r.backupEligible, backedUp: r.backedUp, aaguid: r.aaguid, transports: r.transports,
                  revoked: r.revoked, signCount: r.signCount, created: r.created.time, lastUsed: r.lastUsed?.time)
    }
}

/// The helper's probe as the decision's `AuthenticatorProbe`.
struct HelperProbe: AuthenticatorProbe {
    let relyingParty: RelyingParty

    func probe(user: String) -> AuthenticatorSignal {
        guard let name = try? UserName(validating: user) else { return .healthy(holding: []) }
        let reports: [AuthenticatorReport]
        do {
            switch try relyingParty.probe(user: name) {
            case .success(let r): reports = r
            // The helper ran but could not look: its authenticator is there and failing.
            case .failure(let f): return .broken("the helper could not probe: \(f)")
            }
        } catch {
            switch error {
            case .launch(let e): return .unavailable(e.description)
            default: return .broken(error.description)
            }
        }
        guard let host = reports.hostAuthenticator else { return .unavailable("the helper reported no host authenticator") }
        switch host.health.condition {
        case .healthy:
            return .healthy(holding: host.held.map { HeldCredentialSignal(id: Base64URL.encode($0.id), locked: $0.locked) })
        case .unavailable(let why): return .unavailable(why)
        case .broken(let why): return .broken(why)
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
