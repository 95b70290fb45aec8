import Identifiers

/// What the decision looks at. Every signal is a plain value so that tests, `passkeyctl
/// explain` and the fleet simulator can build one directly; `SignalGatherer` builds them on a
/// real host. Times are whole seconds since the Unix epoch (UTC).

/// One of the user's credentials as the registry records it. The decision never trusts
/// `hostID` alone: a credential is usable here only when this host's authenticator reports
/// holding it (see `CredentialStatus`).
public struct CredentialSignal: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Bound to one host's authenticator.
        case platform
        /// A FIDO2 security key that travels with the user: usable on any host it is plugged
        /// into (`hostID` is where it was registered).
        case roaming
    }

    public var id: CredentialID
    public var kind: Kind
    /// The host the credential was created on (the registry's host id: a keyed hash of the
    /// machine id); nil for roaming credentials.
    public var hostID: String?
    /// That host's name, for messages ("your passkeys are on host-a").
    public var hostName: String?
    public var backupEligible: Bool
    public var backedUp: Bool
    public var aaguid: String
    public var transports: [String]
    /// Revoked credentials are ignored by every rule.
    public var revoked: Bool
    public var signCount: UInt32
    public var created: Int64
    public var lastUsed: Int64?
    /// The system that registered it when it is not this registry ("FreeIPA"): shown, never
    /// decided on (such a credential is a security key like any other).
    public var registeredIn: String?

    public init(id: CredentialID, kind: Kind = .platform, hostID: String?, hostName: String?,
                backupEligible: Bool = false, backedUp: Bool = false,
                aaguid: String = "00000000-0000-0000-0000-000000000000", transports: [String] = ["internal"],
                revoked: Bool = false, signCount: UInt32 = 0, created: Int64, lastUsed: Int64? = nil, registeredIn: String? = nil) {
        self.registeredIn = registeredIn
        self.id = id
        self.kind = kind
        self.hostID = hostID
        self.hostName = hostName
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.aaguid = aaguid
        self.transports = transports
        self.revoked = revoked
        self.signCount = signCount
        self.created = created
        self.lastUsed = lastUsed
    }
}

/// This host, as the registry names it.
public struct HostSignal: Sendable, Codable, Equatable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// A credential this host's authenticator holds for the user.
public struct HeldCredentialSignal: Sendable, Codable, Equatable {
    public var id: CredentialID
    /// Too many wrong PINs: the authenticator refuses it until it is replaced or unlocked.
    public var locked: Bool

    public init(id: CredentialID, locked: Bool = false) {
        self.id = id
        self.locked = locked
    }
}

/// This host's authenticator as the helper's probe saw it.
public struct AuthenticatorSignal: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case healthy
        /// No authenticator here: none configured, or the configured one is absent (no TPM).
        case unavailable
        /// There is one, but the probe failed (helper crashed, timed out, key store unreadable).
        case broken
        /// Not asked, because the session alone already decided (remote, non-interactive):
        /// spawning the helper for nothing would slow every ssh login down.
        case notProbed = "not_probed"
    }

    public var state: State
    /// Why it is unavailable or broken, in words an administrator can act on.
    public var detail: String?
    /// The user's credentials it holds (healthy only).
    public var held: [HeldCredentialSignal]

    public static func healthy(holding held: [HeldCredentialSignal]) -> Self { .init(state: .healthy, detail: nil, held: held) }
    public static func unavailable(_ detail: String) -> Self { .init(state: .unavailable, detail: detail, held: []) }
    public static func broken(_ detail: String) -> Self { .init(state: .broken, detail: detail, held: []) }
    public static let notProbed = Self(state: .notProbed, detail: nil, held: [])

    public init(state: State, detail: String?, held: [HeldCredentialSignal]) {
        self.state = state
        self.detail = detail
        self.held = held
    }
}

/// The FIDO2 security keys plugged into this host, as the helper's probe saw them: asked
/// silently (no touch, no PIN) for the user's roaming credentials.
public struct SecurityKeySignal: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        /// The keys were looked at.
        case probed
        /// Not looked at: the user has no roaming credential, or the session alone decided.
        case notProbed = "not_probed"
    }

    public var state: State
    /// How many keys answered.
    public var present: Int
    /// The user's credentials they hold (`locked`: the key refuses PINs).
    public var held: [HeldCredentialSignal]

    public static let notProbed = Self(state: .notProbed, present: 0, held: [])
    public static func probed(present: Int, holding held: [HeldCredentialSignal]) -> Self {
        Self(state: .probed, present: present, held: held)
    }

    public init(state: State, present: Int, held: [HeldCredentialSignal]) {
        self.state = state
        self.present = present
        self.held = held
    }
}

/// The PAM transaction, as the module reads it from the handle.
public struct SessionSignal: Sendable, Codable, Equatable {
    /// PAM_SERVICE (sshd, login, gdm-password, sudo, …).
    public var service: String
    /// PAM_RHOST; nil or empty when the application did not set it.
    public var rhost: String?
    public var tty: String?
    /// Whether PAM_CONV is set: without one nothing can be asked or shown.
    public var hasConversation: Bool
    /// PAM_SILENT was passed: no informational messages.
    public var silent: Bool
    /// The uid the application runs as, when that is not root: a screen locker (vlock,
    /// xscreensaver, swaylock) or `pamtester` run by a user. nil when it runs as root —
    /// login, sshd, gdm, and the setuid-root programs su, sudo, passwd and polkit's agent
    /// helper, whose effective uid is 0 whoever started them. Such an application can only
    /// use its own account's passkeys, through the setuid helper, and can create none.
    public var callerUID: UInt32?

    public init(service: String, rhost: String? = nil, tty: String? = nil, hasConversation: Bool = true, silent: Bool = false,
                callerUID: UInt32? = nil) {
        self.service = service
        self.rhost = rhost
        self.tty = tty
        self.hasConversation = hasConversation
        self.silent = silent
        self.callerUID = callerUID
    }
}

/// Everything one decision is made from.
public struct Signals: Sendable, Codable, Equatable {
    /// PAM_USER as given, whether or not such an account exists.
    public var user: String
    /// The account's uid; nil when there is no such account (or the lookup failed). The append
    /// decision reads it; the login decision only when the application does not run as root
    /// (`SessionSignal.callerUID`), where every account but the caller's own — an unknown name
    /// included — gets the same answer. Otherwise the login decision must not depend on whether
    /// the account exists, so an unknown name looks exactly like a user without passkeys.
    public var uid: UInt32?
    public var credentials: [CredentialSignal]
    public var host: HostSignal
    public var authenticator: AuthenticatorSignal
    public var securityKeys: SecurityKeySignal
    public var session: SessionSignal
    public var history: History
    public var now: Int64

    public init(user: String, uid: UInt32?, credentials: [CredentialSignal], host: HostSignal,
                authenticator: AuthenticatorSignal, securityKeys: SecurityKeySignal = .notProbed, session: SessionSignal,
                history: History = History(), now: Int64) {
        self.securityKeys = securityKeys
        self.user = user
        self.uid = uid
        self.credentials = credentials
        self.host = host
        self.authenticator = authenticator
        self.session = session
        self.history = history
        self.now = now
    }
}
