#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import HostState
import Intelligence
import Policy
import Registry
import RelyingParty
import Storage
import WebAuthn
import Identifiers

/// This host as configured: the policy and everything built from it — the composition the
/// module and passkeyctl share (each has a Wiring.swift saying what it builds from this). The
/// module builds one per PAM call (nothing is cached between calls inside someone else's
/// process); passkeyctl builds one per command. The ceremonies (RelyingParty) and the decision
/// (Intelligence) see only ports: `CredentialRegistry`, the helper's connection, and the
/// decision's `RegistryReading`, `HostHistorySource`, `AuthenticatorProbe` and `AccountLookup`.
public struct Site {
    public let policyPath: String
    public let policy: Policy
    public let warnings: [PolicyWarning]
    public let host: HostIdentity
    /// The registry port: the files store (`registry_dir`), or the directory's cache
    /// (`registry = ldap`, `Site.registry(policy:policyPath:)`).
    public let registry: any CredentialRegistry
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
        let registry = registry(policy: policy, policyPath: policyPath)
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

    /// The registry port the policy names. `registry = ldap`: the directory's local cache; a
    /// root process also queues its writes and starts pam_passkey_directory (with
    /// `registry_timeout`) to refresh and push; any other process reads the cache only.
    public static func registry(policy: Policy, policyPath: String) -> any CredentialRegistry {
        switch policy[.registry] {
        case .files:
            return FileRegistry(directory: policy[.registryDir])
        case .ldap:
            let root = geteuid() == 0
            return DirectoryRegistry(location: policy[.ldapURI], cacheDirectory: policy[.registryCacheDir],
                                     queue: root ? WriteQueue(stateDirectory: policy[.stateDir]) : nil,
                                     sync: root ? DirectoryProgram(program: policy[.directoryProgram], policyPath: policyPath,
                                                                   timeoutSeconds: policy[.registryTimeout]) : nil,
                                     rules: CacheRules(policy: policy))
        }
    }


    /// The decision's inputs for `user` in `session`, and the registry records they came from.
    public func gather(for user: UserName, session: SessionSignal, probe: ProbeRule = .unlessSessionDecides) throws(GatherError) -> Gathered {
        let read = RememberedRecord(registry: registry)
        let gatherer = SignalGatherer(registry: read, history: isRoot ? history : NoHostHistory(),
                                      authenticator: HelperProbe(relyingParty: relyingParty, read: read), accounts: SystemAccountLookup(),
                                      host: HostSignal(id: host.hostID, name: host.hostName))
        return try gatherer.gather(user: user, session: session, now: relyingParty.now(), policy: policy, probe: probe)
    }
}

/// The registry as the gatherer reads it, keeping the record it read: the probe then looks for
/// each security-key credential with the relying party id it was made for (FreeIPA's keys:
/// the IPA domain), without reading the record twice.
final class RememberedRecord: RegistryReading {
    let registry: any RegistryReading
    private(set) var last: UserRecord?

    init(registry: any RegistryReading) { self.registry = registry }

    func record(for user: UserName) throws -> UserRecord {
        let r = try registry.record(for: user)
        last = r
        return r
    }
}

/// The helper's probe as the decision's `AuthenticatorProbe`.
struct HelperProbe: AuthenticatorProbe {
    let relyingParty: RelyingParty
    var read: RememberedRecord? = nil

    func probe(user: UserName, securityKeyCredentials ids: [CredentialID], securityKeyPresence: Bool) -> ProbeSignals {
        // The policy's rp_id for the registry's own; each other relying party id on its own.
        var roaming: [CredentialID] = []
        var others: [SecurityKeyLookup] = []
        for id in ids {
            guard let rp = read?.last?.credential(id: id)?.rpID, rp != relyingParty.rpID else { roaming.append(id); continue }
            if let i = others.firstIndex(where: { $0.rpID == rp }) { others[i].credentials.append(id) } else {
                others.append(SecurityKeyLookup(rpID: rp, credentials: [id]))
            }
        }
        let reports: [AuthenticatorReport]
        do {
            switch try relyingParty.probe(user: user, securityKeyCredentials: roaming, securityKeyPresence: securityKeyPresence,
                                          otherRelyingParties: others) {
            case .success(let r): reports = r
            // The helper ran but could not look: its authenticator is there and failing.
            case .failure(let f): return ProbeSignals(authenticator: .broken("the helper could not probe: \(f)"))
            }
        } catch {
            switch error {
            case .launch(let e): return ProbeSignals(authenticator: .unavailable(e.description))
            default: return ProbeSignals(authenticator: .broken(error.description))
            }
        }
        return Self.signals(from: reports, lookedForKeys: !ids.isEmpty || securityKeyPresence)
    }

    /// The host authenticator's report as its signal, and the security keys' reports (one per
    /// key that answered) as one signal.
    static func signals(from reports: [AuthenticatorReport], lookedForKeys: Bool) -> ProbeSignals {
        let authenticator: AuthenticatorSignal
        if let host = reports.hostAuthenticator {
            switch host.health.condition {
            case .healthy: authenticator = .healthy(holding: host.held.map { HeldCredentialSignal(id: $0.id, locked: $0.locked) })
            case .unavailable(let why): authenticator = .unavailable(why)
            case .broken(let why): authenticator = .broken(why)
            }
        } else {
            authenticator = .unavailable("the helper reported no host authenticator")
        }
        let keys = reports.filter { $0.health.kind == .securityKey && $0.health.isHealthy }
        let securityKeys: SecurityKeySignal = lookedForKeys
            ? .probed(present: keys.count, holding: keys.flatMap { $0.held.map { HeldCredentialSignal(id: $0.id, locked: $0.locked) } })
            : .notProbed
        return ProbeSignals(authenticator: authenticator, securityKeys: securityKeys)
    }
}

