import Wording
import Identifiers

/// Every outcome carries a reason with three faces:
/// - `code`: stable snake_case, for syslog (`reason=credentials_elsewhere`) and JSON. Scripts
///   and dashboards key on it; never rename one.
/// - `summary`: one sentence for the administrator (`passkeyctl explain`, the syslog line).
/// - `userMessage`: the one info line the user sees, only where it helps them; nil means the
///   module shows nothing and the password prompt simply follows.

/// Why the module does not start a passkey login.
public enum StepAsideReason: Sendable, Equatable {
    /// Rule 2: no conversation function.
    case noConversation
    /// Rule 2: the service is in `noninteractive_services`.
    case nonInteractiveService(String)
    /// Rule 3: PAM_RHOST names another machine and `remote_sessions = decline`.
    case remoteSession(rhost: String)
    /// The application runs as a user (a screen locker) and asks about another account: the
    /// setuid helper serves only the caller's own account, so there is nothing to try.
    case otherAccount(callerUID: UInt32)
    /// Rule 1: no active credential — and, identically, no such user.
    case noCredentials
    /// Rule 5: every active credential is on another host or a security key. `hosts` are
    /// display names, most recently used first.
    case credentialsElsewhere(hosts: [String], securityKeys: Int)
    /// Rule 6: this host's credential is locked after too many wrong PINs.
    case credentialLocked([CredentialID])
    /// Rule 6: registered for this host, but the authenticator no longer holds it.
    case credentialMissing([CredentialID])
    /// Rule 6: the user has a credential for this host, and there is no authenticator.
    case authenticatorUnavailable(String)
    /// Rule 6: the user has a credential for this host, and the authenticator is failing.
    case authenticatorBroken(String)
    /// Rule 7: `cancel_threshold` cancels in a row; steps aside until `until`.
    case cancelSnooze(cancels: Int, until: Int64)
    /// Rule 6 for a security key: the plugged-in key that holds the user's passkey has blocked
    /// its PIN (none of its retries left); only resetting the key unblocks it.
    case securityKeyBlocked([CredentialID])
    /// `registry = ldap`: the directory does not answer and the cached record is older than
    /// `registry_max_offline` (or `registry_online = required`): a revocation made since may
    /// be missing from it, so the passkey is not used on its word.
    case registryOffline(String)

    public var code: String {
        switch self {
        case .noConversation: "no_conversation"
        case .nonInteractiveService: "noninteractive_service"
        case .remoteSession: "remote_session"
        case .otherAccount: "other_account"
        case .noCredentials: "no_credentials"
        case .credentialsElsewhere: "credentials_elsewhere"
        case .credentialLocked: "credential_locked"
        case .credentialMissing: "credential_missing"
        case .authenticatorUnavailable: "authenticator_unavailable"
        case .authenticatorBroken: "authenticator_broken"
        case .cancelSnooze: "cancel_snooze"
        case .securityKeyBlocked: "security_key_blocked"
        case .registryOffline: "registry_offline"
        }
    }

    public var summary: String {
        switch self {
        case .noConversation:
            "the application gave no conversation function, so nothing can be asked"
        case .nonInteractiveService(let s):
            "service \(s) is in noninteractive_services"
        case .remoteSession(let rhost):
            "remote session from \(rhost) and remote_sessions = decline: this host's authenticator is not with the user"
        case .otherAccount(let uid):
            "the application runs as uid \(uid), not as root, and this is another account: only root can use another account's passkeys"
        case .noCredentials:
            "the user has no active passkey"
        case .credentialsElsewhere(let hosts, let keys):
            "the user's passkeys are \(placesText(hosts: hosts, securityKeys: keys, short: false)); this host's authenticator holds none of them"
        case .credentialLocked(let ids):
            "this host's passkey \(ids.map(\.short).joined(separator: ", ")) is locked after too many wrong PINs; the user can replace it after the password, or an administrator can run passkeyctl unlock"
        case .credentialMissing(let ids):
            "passkey \(ids.map(\.short).joined(separator: ", ")) is registered for this host but the authenticator does not hold it (host state lost, or reinstalled with the same machine id)"
        case .authenticatorUnavailable(let detail):
            "the user has a passkey for this host but there is no authenticator: \(detail)"
        case .authenticatorBroken(let detail):
            "the user has a passkey for this host but the authenticator is failing: \(detail)"
        case .registryOffline(let detail):
            "\(detail); passkeys step aside until the directory answers (passkeyctl sync)"
        case .cancelSnooze(let n, let until):
            "the PIN prompt was cancelled \(n) times in a row (cancel_threshold); passkey prompts resume at \(utcText(until))"
        case .securityKeyBlocked(let ids):
            "the security key holding passkey \(ids.map(\.short).joined(separator: ", ")) has no PIN retries left; it must be reset (which erases its passkeys) and enrolled again"
        }
    }

    public var userMessage: String? {
        switch self {
        case .noConversation, .nonInteractiveService, .remoteSession, .otherAccount, .noCredentials, .registryOffline:
            nil
        case .credentialsElsewhere(let hosts, let keys):
            Wording.passkeysElsewhere(count: hosts.count + keys, places: placesText(hosts: hosts, securityKeys: keys, short: true))
        case .credentialLocked:
            Wording.credentialLocked
        case .credentialMissing:
            Wording.credentialMissing
        case .authenticatorUnavailable, .authenticatorBroken:
            Wording.authenticatorNotWorking
        case .cancelSnooze(let n, _):
            Wording.cancelSnooze(cancels: n)
        case .securityKeyBlocked:
            Wording.securityKeyBlocked
        }
    }

    /// A fault an administrator must fix. The module answers PAM_AUTHINFO_UNAVAIL (rather
    /// than PAM_IGNORE) and logs at error level; the password still works either way.
    public var isFault: Bool {
        switch self {
        case .authenticatorUnavailable, .authenticatorBroken: true
        default: false
        }
    }
}

/// "on other computers (host-a, host-b)", "on a security key", "on another computer (host-a)
/// and on 2 security keys". At most three names, then "and N more".
private func placesText(hosts: [String], securityKeys: Int, short: Bool) -> String {
    var parts: [String] = []
    if !hosts.isEmpty {
        let shown = short && hosts.count > 3 ? hosts.prefix(3) + ["\(hosts.count - 3) more"] : hosts[...]
        let list = shown.joined(separator: ", ")
        parts.append(hosts.count == 1 ? "on another computer (\(list))" : "on other computers (\(list))")
    }
    if securityKeys > 0 {
        let keys = securityKeys == 1 ? "a security key" : "\(securityKeys) security keys"
        parts.append(securityKeys == 1 ? "on a security key that is not plugged in" : "on \(keys) that are not plugged in")
    }
    return parts.joined(separator: " and ")
}

/// Why no append offer is made after a successful password.
public enum NoOfferReason: Sendable, Equatable {
    case appendDisabled
    case noConversation
    case nonInteractiveService(String)
    /// PAM_SILENT: an unasked-for question is exactly what the caller asked us not to show.
    case silent
    case remoteSession(rhost: String)
    /// The application does not run as root (a screen locker): creating a passkey needs
    /// root, so the helper would refuse.
    case unprivilegedCaller(uid: UInt32)
    case skippedService(String)
    case unknownAccount
    case systemAccount(uid: UInt32, minUID: Int)
    case outsideRollout(bucket: Int, percent: Int)
    case authenticatorUnavailable(String)
    case authenticatorBroken(String)
    /// A working passkey for this host exists already.
    case credentialHere
    case declinedNever(since: Int64)
    case snoozed(declinedAt: Int64, until: Int64)
    case unansweredOffers(count: Int, max: Int)
    case offerLimit(offers: Int, max: Int)

    public var code: String {
        switch self {
        case .appendDisabled: "append_disabled"
        case .noConversation: "no_conversation"
        case .nonInteractiveService: "noninteractive_service"
        case .silent: "silent"
        case .remoteSession: "remote_session"
        case .unprivilegedCaller: "unprivileged_caller"
        case .skippedService: "skipped_service"
        case .unknownAccount: "unknown_account"
        case .systemAccount: "system_account"
        case .outsideRollout: "outside_rollout"
        case .authenticatorUnavailable: "authenticator_unavailable"
        case .authenticatorBroken: "authenticator_broken"
        case .credentialHere: "credential_here"
        case .declinedNever: "declined_never"
        case .snoozed: "snoozed"
        case .unansweredOffers: "unanswered_offers"
        case .offerLimit: "offer_limit"
        }
    }

    public var summary: String {
        switch self {
        case .appendDisabled: "append = no"
        case .noConversation: "the application gave no conversation function"
        case .nonInteractiveService(let s): "service \(s) is in noninteractive_services"
        case .silent: "the application passed PAM_SILENT"
        case .remoteSession(let rhost): "remote session from \(rhost) and remote_sessions = decline"
        case .unprivilegedCaller(let uid): "the application runs as uid \(uid), not as root; creating a passkey needs root"
        case .skippedService(let s): "service \(s) is in append_skip_services (an offer would interrupt a task)"
        case .unknownAccount: "there is no account of that name on this host"
        case .systemAccount(let uid, let min): "uid \(uid) is below min_uid = \(min)"
        case .outsideRollout(let bucket, let percent):
            "the user's rollout bucket is \(bucket), not below rollout_percent = \(percent)"
        case .authenticatorUnavailable(let detail): "this host has no authenticator: \(detail)"
        case .authenticatorBroken(let detail): "this host's authenticator is failing: \(detail)"
        case .credentialHere: "the user already has a working passkey on this host"
        case .declinedNever(let since): "the user answered \"never\" on this host at \(utcText(since))"
        case .snoozed(let at, let until):
            "the user answered \"n\" at \(utcText(at)); no offers until \(utcText(until)) (append_snooze_days)"
        case .unansweredOffers(let n, let max):
            "\(n) offers in a row went unanswered (append_max_offers = \(max)); no more offers until the history is cleared"
        case .offerLimit(let n, let max):
            max == 0 ? "append_max_offers = 0: no offers are made"
                : "\(n) offers in the last 30 days (append_max_offers = \(max))"
        }
    }
}

/// What the user is offered after the password.
public enum AppendOffer: Sendable, Equatable {
    /// A first passkey for this host.
    case create
    /// A passkey on the security key plugged in (`append_on = security_key`): it then signs
    /// in on any host the key is plugged into.
    case createOnSecurityKey
    /// The heal path: a new passkey (with a new PIN) for this host, and the listed ones
    /// revoked in the registry and deleted from the authenticator.
    case replace(credentialIDs: [CredentialID], cause: HealCause)

    public var code: String {
        switch self {
        case .create: "create"
        case .createOnSecurityKey: "create_security_key"
        case .replace(_, .locked): "replace_locked"
        case .replace(_, .missing): "replace_missing"
        }
    }

    public var summary: String {
        switch self {
        case .create:
            "offer to create a passkey for this host"
        case .createOnSecurityKey:
            "offer to create a passkey on the security key plugged in (append_on = security_key)"
        case .replace(let ids, .locked):
            "offer to replace the locked passkey \(ids.map(\.short).joined(separator: ", ")) with a new one (new PIN)"
        case .replace(let ids, .missing):
            "offer to replace passkey \(ids.map(\.short).joined(separator: ", ")), which this host's authenticator no longer holds"
        }
    }

    /// The question, as the module asks it.
    public var prompt: String {
        switch self {
        case .create: Wording.offerCreate
        case .createOnSecurityKey: Wording.offerCreateOnSecurityKey
        case .replace(_, .locked): Wording.offerReplaceLocked
        case .replace(_, .missing): Wording.offerReplaceMissing
        }
    }
}

public enum HealCause: String, Sendable, Codable {
    case locked
    case missing
}
