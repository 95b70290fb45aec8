#if canImport(Glibc)
import Glibc
#endif
import HostState
import Policy
import Registry
import Storage
import Identifiers

// The ports between the decision and the world. Each is as narrow as the decision needs and
// takes the user as a `UserName` (validated once, at the PAM boundary). The wiring adapts the
// registry, the host state and the helper to them; tests and the fleet simulator feed values.

/// This user's history on this host (the host state).
public protocol HostHistorySource {
    /// An empty `HostHistory()` when there is none yet. Throw only when it exists but cannot
    /// be read; a lost "never" or snooze must not turn into an unwanted offer, so the gatherer
    /// fails (`GatherError.historyUnreadable`) rather than guess.
    func hostHistory(of user: UserName) throws -> HostHistory
}

/// This host's authenticators, through the helper: its own, and the security keys plugged in.
public protocol AuthenticatorProbe {
    /// Never throws: no authenticator is `.unavailable(why)`, a failing one `.broken(why)`,
    /// both with text an administrator can act on ("helper exited with status 3",
    /// "no TPM at /dev/tpmrm0"). `held` lists only this user's credentials. Security keys are
    /// looked at only for `securityKeyCredentials` (the user's roaming ones), or for which are
    /// plugged in when `securityKeyPresence` (an offer on a key); neither: not probed.
    func probe(user: UserName, securityKeyCredentials: [CredentialID], securityKeyPresence: Bool) -> ProbeSignals
}

/// What one probe found.
public struct ProbeSignals: Sendable, Equatable {
    public var authenticator: AuthenticatorSignal
    public var securityKeys: SecurityKeySignal

    public init(authenticator: AuthenticatorSignal, securityKeys: SecurityKeySignal = .notProbed) {
        self.authenticator = authenticator
        self.securityKeys = securityKeys
    }
}

/// The account database.
public protocol AccountLookup {
    /// The uid, or nil when there is no such account or the lookup failed (NSS down): nil
    /// only ever removes the append offer, so failing closed costs nothing.
    func uid(of user: UserName) -> UInt32?
}

/// A process that cannot read the host state (not root) has no host history: no cancels, no
/// "never" (the setuid helper keeps them).
public struct NoHostHistory: HostHistorySource {
    public init() {}
    public func hostHistory(of user: UserName) throws -> HostHistory { HostHistory() }
}

extension HistoryStore: HostHistorySource {
    public func hostHistory(of user: UserName) throws -> HostHistory { try history(for: user).host }
}

/// Why signals could not be gathered. The module answers PAM_AUTHINFO_UNAVAIL and the
/// password module carries on.
public enum GatherError: Error, Equatable, CustomStringConvertible {
    case registryUnreadable(user: String, detail: String)
    case historyUnreadable(user: String, detail: String)
    /// The directory's cache cannot vouch for the record (`RegistryOffline`): not a fault
    /// of this host; the login steps aside with `StepAsideReason.registryOffline`.
    case registryOffline(user: String, detail: String)

    public var description: String {
        switch self {
        case .registryUnreadable(let user, let detail):
            "cannot read the passkey registry for \(user): \(detail) (check registry_dir: it must exist, be owned by root and not be writable by others)"
        case .registryOffline(_, let detail):
            detail
        case .historyUnreadable(let user, let detail):
            "cannot read this host's passkey history for \(user): \(detail) (check state_dir; passkeyctl status shows what is wrong)"
        }
    }
}

/// The decision's inputs, and the registry records they came from: the ceremonies need the
/// public keys, and nothing is read twice.
public struct Gathered: Sendable {
    public let signals: Signals
    /// The user's records as read (empty when nothing was read).
    public let credentials: [CredentialRecord]
}

/// Assembles `Signals` from the ports.
public struct SignalGatherer {
    public var registry: any RegistryReading
    public var history: any HostHistorySource
    public var authenticator: any AuthenticatorProbe
    public var accounts: any AccountLookup
    public var host: HostSignal

    public init(registry: any RegistryReading, history: any HostHistorySource, authenticator: any AuthenticatorProbe,
                accounts: any AccountLookup, host: HostSignal) {
        self.registry = registry
        self.history = history
        self.authenticator = authenticator
        self.accounts = accounts
        self.host = host
    }

    /// Everything about `user` for `session` at `now` that the decision for `probe` can use.
    ///
    /// The work done depends only on what the registry lists for the name, so an unknown name
    /// and a user without passkeys do exactly the same work (see `ProbeRule`). Spawning the
    /// helper costs milliseconds and every read costs system calls on every login, so what
    /// could not change the decision is not read.
    public func gather(user: UserName, session: SessionSignal, now: Int64, policy: Policy,
                       probe: ProbeRule = .unlessSessionDecides) throws(GatherError) -> Gathered {
        // An application running as a user can act for its own account only: for any other
        // name nothing is read and nothing is asked (the decision steps aside).
        var callersUID: UInt32? = nil
        if let caller = session.callerUID {
            callersUID = accounts.uid(of: user)
            if callersUID != caller {
                return Gathered(signals: Signals(user: user.rawValue, uid: callersUID, credentials: [], host: host,
                                                 authenticator: .notProbed, session: session, now: now),
                                credentials: [])
            }
        }
        let record: UserRecord
        do { record = try registry.record(for: user) } catch let offline as RegistryOffline {
            throw .registryOffline(user: user.rawValue, detail: offline.description)
        } catch {
            throw .registryUnreadable(user: user.rawValue, detail: String(describing: error))
        }
        let creds = record.credentials.map(CredentialSignal.init(record:))
        // Only a credential bound to this host, or on a security key, can be a passkey login
        // here (ProbeRule).
        let couldBeHere = creds.contains { $0.couldBeHeld(onHost: host.id) }
        let sessionDecides = sessionStepAside(session, host: host, policy: policy) != nil
        // The login decision never reads the uid (an unknown name must look like any other),
        // and reads the history only to snooze a prompt for a usable credential.
        let forLogin = probe == .whenItCanDecide
        let uid = session.callerUID != nil ? callersUID : forLogin ? nil : accounts.uid(of: user)
        var past = History()
        if !forLogin || (couldBeHere && !sessionDecides) {
            do { past = History(host: try history.hostHistory(of: user), offers: record.offers ?? OfferLog()) } catch {
                throw .historyUnreadable(user: user.rawValue, detail: String(describing: error))
            }
        }
        let skipProbe: Bool
        switch probe {
        case .always: skipProbe = false
        case .unlessSessionDecides: skipProbe = sessionDecides
        case .whenItCanDecide: skipProbe = sessionDecides || !couldBeHere
        }
        let roaming = creds.filter { $0.kind == .roaming && !$0.revoked }.map(\.id)
        let probed = skipProbe ? ProbeSignals(authenticator: .notProbed)
                               : authenticator.probe(user: user, securityKeyCredentials: roaming,
                                                     securityKeyPresence: !forLogin && policy[.appendOn] == .securityKey)
        let signals = Signals(user: user.rawValue, uid: uid, credentials: creds, host: host,
                              authenticator: probed.authenticator, securityKeys: probed.securityKeys,
                              session: session, history: past, now: now)
        return Gathered(signals: signals, credentials: record.credentials)
    }
}

/// When `SignalGatherer.gather` asks the authenticator (spawns the helper).
public enum ProbeRule: Sendable, Equatable {
    /// The login decision: the probe (and the history) only when the answer can change it.
    /// Not when the session alone decides (remote, non-interactive), and not when no active
    /// credential of the user could be held here: with none at all rule 1 applies whatever
    /// the authenticator holds (a credential counts only if the registry lists it); with all
    /// of them bound to other hosts (by keyed host id) rule 5 does — the registry already says
    /// where they are, so the helper is not spawned to hear it again. The one case this gives
    /// up: a key still held here after this host's id changed (a new machine-id) is not found
    /// at login; the append step, which probes, then sees it held and offers nothing, and
    /// `passkeyctl explain` shows it as usable. The uid is never looked up (the login
    /// decision does not read it). An unknown name has no credential either, so it and a user
    /// without passkeys still do exactly the same work. A user *with* passkeys is probed;
    /// telling those apart by timing reveals nothing new: the registry is world-readable and
    /// rule 5 says as much on the screen.
    case whenItCanDecide
    /// The append decision: the offer needs the authenticator's health even for a user with
    /// no passkey; skipped only when the session alone decides.
    case unlessSessionDecides
    /// `passkeyctl explain`, which wants the full picture.
    case always
}

/// The system's account database through NSS (getpwnam_r): /etc/passwd, sssd, LDAP, ….
public struct SystemAccountLookup: AccountLookup {
    public init() {}

    public func uid(of name: UserName) -> UInt32? {
        let user = name.rawValue
        var size = max(1024, Int(sysconf(Int32(_SC_GETPW_R_SIZE_MAX))))
        while size <= 1 << 20 {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>? = nil
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwnam_r(user, &entry, &buffer, size, &result)
            if rc == ERANGE { size *= 4; continue }
            guard rc == 0, result != nil else { return nil }
            return entry.pw_uid
        }
        return nil
    }
}
