#if canImport(Glibc)
import Glibc
#endif
import Policy

// The seams between the decision and the world. Each is as narrow as the decision needs; the
// module adapts the registry, the host state and the helper client to them, tests and the
// fleet simulator feed values directly.

/// The user's credentials from the registry.
public protocol CredentialSource {
    /// All of the user's credentials, revoked ones included (the decision ignores them, explain
    /// shows them). A user without a record — and a name with no account — is `[]`, not an
    /// error. Throw only when the registry cannot be read at all; the gatherer reports that
    /// as `GatherError.registryUnreadable`.
    func credentials(of user: String) throws -> [CredentialSignal]
}

/// The user's history: this host's part from the host state, the offer log from wherever it
/// is kept (see `History`).
public protocol HistorySource {
    /// An empty `History()` when there is none yet. Throw only when it exists but cannot be
    /// read; a lost "never" or snooze must not turn into an unwanted offer, so the gatherer
    /// fails (`GatherError.historyUnreadable`) rather than guess.
    func history(of user: String) throws -> History
}

/// This host's authenticator, through the helper.
public protocol AuthenticatorProbe {
    /// Never throws: no authenticator is `.unavailable(why)`, a failing one `.broken(why)`,
    /// both with text an administrator can act on ("helper exited with status 3",
    /// "no TPM at /dev/tpmrm0"). `held` lists only this user's credentials.
    func probe(user: String) -> AuthenticatorSignal
}

/// The account database.
public protocol AccountLookup {
    /// The uid, or nil when there is no such account or the lookup failed (NSS down): nil
    /// only ever removes the append offer, so failing closed costs nothing.
    func uid(of user: String) -> UInt32?
}

/// Why signals could not be gathered. The module answers PAM_AUTHINFO_UNAVAIL and the
/// password module carries on.
public enum GatherError: Error, Equatable, CustomStringConvertible {
    case registryUnreadable(user: String, detail: String)
    case historyUnreadable(user: String, detail: String)

    public var description: String {
        switch self {
        case .registryUnreadable(let user, let detail):
            "cannot read the passkey registry for \(user): \(detail) (check registry_dir: it must exist, be owned by root and not be writable by others)"
        case .historyUnreadable(let user, let detail):
            "cannot read this host's passkey history for \(user): \(detail) (check state_dir; passkeyctl status shows what is wrong)"
        }
    }
}

/// Assembles `Signals` from the seams.
public struct SignalGatherer {
    public var credentials: any CredentialSource
    public var history: any HistorySource
    public var authenticator: any AuthenticatorProbe
    public var accounts: any AccountLookup
    public var host: HostSignal

    public init(credentials: any CredentialSource, history: any HistorySource, authenticator: any AuthenticatorProbe,
                accounts: any AccountLookup, host: HostSignal) {
        self.credentials = credentials
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
    public func gather(user: String, session: SessionSignal, now: Int64, policy: Policy,
                       probe: ProbeRule = .unlessSessionDecides) throws(GatherError) -> Signals {
        // An application running as a user can act for its own account only: for any other
        // name nothing is read and nothing is asked (the decision steps aside).
        var callersUID: UInt32? = nil
        if let caller = session.callerUID {
            callersUID = accounts.uid(of: user)
            if callersUID != caller {
                return Signals(user: user, uid: callersUID, credentials: [], host: host, authenticator: .notProbed,
                               session: session, now: now)
            }
        }
        let creds: [CredentialSignal]
        do { creds = try credentials.credentials(of: user) } catch {
            throw .registryUnreadable(user: user, detail: String(describing: error))
        }
        let hasActive = creds.contains { !$0.revoked }
        let sessionDecides = sessionStepAside(session, host: host, policy: policy) != nil
        // The login decision never reads the uid (an unknown name must look like any other),
        // and reads the history only to snooze a prompt for a usable credential.
        let forLogin = probe == .whenItCanDecide
        let uid = session.callerUID != nil ? callersUID : forLogin ? nil : accounts.uid(of: user)
        var past = History()
        if !forLogin || (hasActive && !sessionDecides) {
            do { past = try history.history(of: user) } catch {
                throw .historyUnreadable(user: user, detail: String(describing: error))
            }
        }
        let skipProbe: Bool
        switch probe {
        case .always: skipProbe = false
        case .unlessSessionDecides: skipProbe = sessionDecides
        case .whenItCanDecide: skipProbe = sessionDecides || !hasActive
        }
        return Signals(user: user, uid: uid, credentials: creds, host: host,
                       authenticator: skipProbe ? .notProbed : authenticator.probe(user: user),
                       session: session, history: past, now: now)
    }
}

/// When `SignalGatherer.gather` asks the authenticator (spawns the helper).
public enum ProbeRule: Sendable, Equatable {
    /// The login decision: the probe (and the history) only when the answer can change it.
    /// Not when the session alone decides (remote, non-interactive), and not when the user has
    /// no active credential — rule 1 then applies whatever the authenticator holds, because a
    /// credential counts only if the registry lists it. The uid is never looked up (the login
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

    public func uid(of user: String) -> UInt32? {
        guard !user.isEmpty, !user.utf8.contains(0) else { return nil }
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
