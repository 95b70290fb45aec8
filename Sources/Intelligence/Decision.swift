import Policy
import Wording
import Identifiers

/// The first question, before any prompt: start a passkey login, or step aside for the
/// password module.
public enum LoginDecision: Sendable, Equatable {
    /// Rule 4: ask for the PIN of one of these credentials (all usable on this host).
    case passkey(credentialIDs: [CredentialID])
    case stepAside(StepAsideReason)

    /// "passkey" or "step_aside", for the syslog line and JSON.
    public var name: String {
        switch self {
        case .passkey: "passkey"
        case .stepAside: "step_aside"
        }
    }

    public var code: String {
        switch self {
        case .passkey: "credential_usable"
        case .stepAside(let r): r.code
        }
    }

    public var summary: String {
        switch self {
        case .passkey(let ids):
            "this host's authenticator holds \(ids.count == 1 ? "the user's passkey" : "\(ids.count) of the user's passkeys") (\(ids.map(\.short).joined(separator: ", ")))"
        case .stepAside(let r): r.summary
        }
    }

    /// The info line to show before the password prompt, if any. Nil under PAM_SILENT.
    public func userMessage(session: SessionSignal) -> String? {
        guard case .stepAside(let r) = self, !session.silent else { return nil }
        return r.userMessage
    }
}

/// The second question, after the password module succeeded in the same transaction.
public enum AppendDecision: Sendable, Equatable {
    case offer(AppendOffer)
    case noOffer(NoOfferReason)

    public var name: String {
        switch self {
        case .offer: "offer"
        case .noOffer: "no_offer"
        }
    }

    public var code: String {
        switch self {
        case .offer(let o): o.code
        case .noOffer(let r): r.code
        }
    }

    public var summary: String {
        switch self {
        case .offer(let o): o.summary
        case .noOffer(let r): r.summary
        }
    }
}

/// What the session alone decides (rules 2 and 3), for the login and the append step alike.
public enum SessionReason: Sendable, Equatable {
    case noConversation
    case nonInteractiveService(String)
    case remoteSession(rhost: String)
}

extension StepAsideReason {
    public init(_ session: SessionReason) {
        switch session {
        case .noConversation: self = .noConversation
        case .nonInteractiveService(let s): self = .nonInteractiveService(s)
        case .remoteSession(let rhost): self = .remoteSession(rhost: rhost)
        }
    }
}

extension NoOfferReason {
    public init(_ session: SessionReason) {
        switch session {
        case .noConversation: self = .noConversation
        case .nonInteractiveService(let s): self = .nonInteractiveService(s)
        case .remoteSession(let rhost): self = .remoteSession(rhost: rhost)
        }
    }
}

/// Rules 2 and 3: what the session alone decides, before anything about the user is read.
/// The module may call this first and skip probing the authenticator when it answers.
///
/// Both rules come before everything else, so a remote or non-interactive login of an
/// unknown name and of a real user with passkeys look the same.
public func sessionStepAside(_ session: SessionSignal, host: HostSignal, policy: Policy) -> SessionReason? {
    if !session.hasConversation { return .noConversation }
    if policy[.noninteractiveServices].contains(session.service) { return .nonInteractiveService(session.service) }
    if policy[.remoteSessions] == .decline {
        if let rhost = session.rhost, isRemote(rhost: rhost, localHostName: host.name) {
            return .remoteSession(rhost: rhost)
        }
        // OpenSSH sets PAM_TTY to "ssh" while it authenticates. A connection that reaches
        // sshd from loopback may still come from far away (ssh -L, a jump host), so an ssh
        // login is remote whatever PAM_RHOST says.
        if session.tty == "ssh" { return .remoteSession(rhost: session.rhost ?? "ssh") }
    }
    return nil
}

/// The decision table (docs/ARCHITECTURE.md), rules 1–7, for the login step. The first rule that applies wins:
///
/// 1. Rule 2 — no conversation, then a `noninteractive_services` service: silent.
/// 2. Rule 3 — remote session with `remote_sessions = decline`: silent.
///    Then, for an application that does not run as root (a screen locker): any account but
///    its own steps aside silently (`other_account`), before anything about it is read.
/// 3. Rule 4 — credentials held here, unlocked, by a healthy authenticator: passkey login
///    with all of them — unless rule 7 (`cancel_threshold` cancels in a row, the last one
///    less than `cancel_snooze` ago) applies. Rule 7 is checked only here: with nothing to
///    prompt for, there is no prompt to snooze.
/// 4. Rule 6 — a problem with this host's own credential beats "your passkeys are elsewhere",
///    because it is what the user must fix here (and the append step heals it): a locked
///    credential, then a credential for this host with the authenticator unavailable or
///    broken, then one the authenticator no longer holds.
/// 5. Rule 5 — active credentials on other hosts or security keys: step aside and say where.
/// 6. Rule 1 — nothing active: step aside silently.
///
/// Revoked credentials are invisible to every rule. The uid is never read here: an unknown
/// name has no registry record and lands on rule 1 exactly like a real user without
/// passkeys — same decision, same (absent) message — so trying names teaches nothing.
/// Rule 5's line does tell that a name has passkeys and where; that is the point of it, and
/// with the default `remote_sessions = decline` only someone at the machine ever sees it.
public func decideLogin(_ signals: Signals, policy: Policy) -> LoginDecision {
    if let r = sessionStepAside(signals.session, host: signals.host, policy: policy) { return .stepAside(StepAsideReason(r)) }
    if let caller = signals.session.callerUID, signals.uid != caller { return .stepAside(.otherAccount(callerUID: caller)) }

    let assessed = assessCredentials(signals)
    func ids(_ status: CredentialStatus) -> [CredentialID] { assessed.filter { $0.status == status }.map(\.credential.id) }

    let usable = ids(.usable)
    if !usable.isEmpty {
        if let snooze = cancelSnooze(signals, policy: policy) { return .stepAside(snooze) }
        return .passkey(credentialIDs: usable)
    }
    // A security key that refuses PINs is the key's own business (it says so at its PIN
    // prompt); rule 6 is about this host's authenticator.
    let locked = assessed.filter { $0.status == .locked && $0.credential.kind == .platform }.map(\.credential.id)
    if !locked.isEmpty { return .stepAside(.credentialLocked(locked)) }
    let blockedKeys = assessed.filter { $0.status == .locked && $0.credential.kind == .roaming }.map(\.credential.id)
    if !blockedKeys.isEmpty { return .stepAside(.securityKeyBlocked(blockedKeys)) }
    if assessed.contains(where: { $0.status == .unreachable }) {
        let detail = signals.authenticator.detail ?? "no detail"
        switch signals.authenticator.state {
        case .broken: return .stepAside(.authenticatorBroken(detail))
        case .unavailable: return .stepAside(.authenticatorUnavailable(detail))
        case .notProbed: return .stepAside(.authenticatorUnavailable("the authenticator was not probed"))
        case .healthy: break  // unreachable only arises when it is not healthy
        }
    }
    let missing = ids(.missing)
    if !missing.isEmpty { return .stepAside(.credentialMissing(missing)) }

    let elsewhere = assessed.filter { $0.status == .elsewhere }.map(\.credential)
    let keys = assessed.count { $0.status == .securityKey }
    if !elsewhere.isEmpty || keys > 0 {
        return .stepAside(.credentialsElsewhere(hosts: hostNames(elsewhere, here: signals.host), securityKeys: keys))
    }
    return .stepAside(.noCredentials)
}

/// Rule 8, after a successful password. Offers only when every condition holds; the first
/// that fails is the reason, checked in this order — session first (so the reason names the
/// most general cause), then the account, then this host, then what the user said before:
///
/// `append`; rules 2 and 3 as at login; an application that runs as root; PAM_SILENT; `append_skip_services`; the account
/// exists and uid ≥ `min_uid`; rollout bucket < `rollout_percent`; authenticator healthy;
/// no usable credential held here; not "never" on this host; not within
/// `append_snooze_days` of the last "n"; fewer than `append_max_offers` unanswered offers in
/// a row; fewer than `append_max_offers` offers in the last 30 days.
///
/// When this host's credential is locked or lost, the offer is to *replace* it (the heal
/// path, rule 6) — the same limits apply, so "never" and "n" are respected there too. A
/// broken or missing authenticator gets no offer at all: nothing could be created with it,
/// and the administrator sees `authenticator_broken` instead.
///
/// Pure in the signals: the module should gather them again after the password (a lockout
/// may just have happened) rather than reuse the login step's decision.
public func decideAppend(_ signals: Signals, policy: Policy) -> AppendDecision {
    guard policy[.append] else { return .noOffer(.appendDisabled) }
    let session = signals.session
    if let r = sessionStepAside(session, host: signals.host, policy: policy) { return .noOffer(NoOfferReason(r)) }
    if let caller = session.callerUID { return .noOffer(.unprivilegedCaller(uid: caller)) }
    if session.silent { return .noOffer(.silent) }
    if policy[.appendSkipServices].contains(session.service) { return .noOffer(.skippedService(session.service)) }

    guard let uid = signals.uid else { return .noOffer(.unknownAccount) }
    let minUID = policy[.minUID]
    if Int(uid) < minUID { return .noOffer(.systemAccount(uid: uid, minUID: minUID)) }
    let percent = policy[.rolloutPercent]
    if percent < 100 {
        let bucket = rolloutBucket(user: signals.user)
        if bucket >= percent { return .noOffer(.outsideRollout(bucket: bucket, percent: percent)) }
    }

    let detail = signals.authenticator.detail ?? "no detail"
    switch signals.authenticator.state {
    case .healthy: break
    case .unavailable: return .noOffer(.authenticatorUnavailable(detail))
    case .broken: return .noOffer(.authenticatorBroken(detail))
    case .notProbed: return .noOffer(.authenticatorUnavailable("the authenticator was not probed"))
    }

    let assessed = assessCredentials(signals)
    if assessed.contains(where: { $0.status == .usable }) { return .noOffer(.credentialHere) }
    let locked = assessed.filter { $0.status == .locked && $0.credential.kind == .platform }.map(\.credential.id)
    let missing = assessed.filter { $0.status == .missing }.map(\.credential.id)
    let onKey = policy[.appendOn] == .securityKey && signals.securityKeys.present > 0
    let offer: AppendOffer = locked.isEmpty && missing.isEmpty ? (onKey ? .createOnSecurityKey : .create)
        : .replace(credentialIDs: locked + missing, cause: locked.isEmpty ? .missing : .locked)

    let history = signals.history
    if let since = history.host.neverSince { return .noOffer(.declinedNever(since: since)) }
    if let declined = history.offers.lastDeclined {
        let until = declined + Int64(policy[.appendSnoozeDays]) * 86_400
        if signals.now < until { return .noOffer(.snoozed(declinedAt: declined, until: until)) }
    }
    let maxOffers = policy[.appendMaxOffers]
    if maxOffers > 0 && history.offers.unansweredInARow >= maxOffers {
        return .noOffer(.unansweredOffers(count: history.offers.unansweredInARow, max: maxOffers))
    }
    let recent = history.offers.count(before: signals.now)
    if recent >= maxOffers { return .noOffer(.offerLimit(offers: recent, max: maxOffers)) }
    return .offer(offer)
}

/// Rule 7.
func cancelSnooze(_ signals: Signals, policy: Policy) -> StepAsideReason? {
    let host = signals.history.host
    guard host.consecutiveCancels >= policy[.cancelThreshold], let last = host.lastCancel else { return nil }
    let until = last + Int64(policy[.cancelSnooze])
    return signals.now < until ? .cancelSnooze(cancels: host.consecutiveCancels, until: until) : nil
}

/// Display names of the hosts holding `credentials`, most recently used first, each once. A
/// credential of an earlier installation of this very host (same name, other host id) is
/// named so, or the user would read "your passkey is on host-b" while sitting at host-b.
func hostNames(_ credentials: [CredentialSignal], here: HostSignal) -> [String] {
    var latest: [String: Int64] = [:]
    for c in credentials {
        var name = c.hostName.flatMap { $0.isEmpty ? nil : $0 } ?? "host \(String((c.hostID ?? "unknown").prefix(8)))"
        if name.lowercased() == here.name.lowercased() { name = "an earlier installation of \(name)" }
        latest[name] = max(latest[name] ?? .min, c.lastUsed ?? c.created)
    }
    return latest.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
}
