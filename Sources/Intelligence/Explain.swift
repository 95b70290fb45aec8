import Policy
import JSON
import Wording
import Identifiers

/// Both decisions for one set of signals — the login step, and the append step as if the
/// password then succeeded — with what they were made from. `passkeyctl explain` prints
/// `text` or `json`; the module's debug logging can use `summary`.
public struct Explanation: Sendable {
    public let signals: Signals
    public let login: LoginDecision
    public let append: AppendDecision
    public let credentials: [CredentialAssessment]
    public let remote: Bool
    public let rolloutBucket: Int
    public let insideRollout: Bool
    /// The policy values the rules read, as they would be written in the file.
    public let policy: [(key: String, value: String)]
    public let policySource: String

    /// Several lines for a person: the decisions, their reasons, the signals behind them.
    public var text: String {
        let s = signals
        var lines: [String] = []
        let account = s.uid.map { "uid \($0)" } ?? "no such account"
        var where_ = "service \(s.session.service)"
        if let rhost = s.session.rhost, !rhost.isEmpty { where_ += " from \(rhost) (\(remote ? "remote" : "local"))" }
        if let tty = s.session.tty { where_ += ", tty \(tty)" }
        if !s.session.hasConversation { where_ += ", no conversation" }
        if s.session.silent { where_ += ", PAM_SILENT" }
        if let caller = s.session.callerUID { where_ += ", the program runs as uid \(caller) (not root)" }
        lines.append("\(s.user) (\(account)) on \(s.host.name) at \(utcText(s.now)): \(where_)")
        lines.append("")
        lines.append("login:  \(login.name.replacingUnderscores) [\(login.code)]")
        lines.append("        \(login.summary)")
        if case .stepAside(let r) = login, r.isFault { lines.append("        (a fault: the module returns PAM_AUTHINFO_UNAVAIL)") }
        if case .passkey = login {
            lines.append("        the user is asked: \"\(Wording.pinPrompt(user: s.user, hostName: s.host.name).trimmingTrailingSpace)\" (an empty answer gives the password prompt)")
        } else {
            lines.append("        the user sees: \(login.userMessage(session: s.session).map { "\"\($0)\"" } ?? "nothing before the password prompt")")
        }
        lines.append("append: \(append.name.replacingUnderscores) [\(append.code)] (if the password then succeeds)")
        lines.append("        \(append.summary)")
        if case .offer(let o) = append { lines.append("        the user is asked: \"\(o.prompt.trimmingTrailingSpace)\"") }
        lines.append("")
        lines.append("credentials: \(credentialCountText)")
        for a in credentials {
            let c = a.credential
            var line = "  \(c.id.short.padded(10)) \(a.status.rawValue.padded(12)) \(c.kind.rawValue.padded(9))"
            line += c.kind == .platform ? " on \(c.hostName ?? "?")" : " security key"
            // An ipaPassKey value carries no time: say where it was registered instead.
            line += c.registeredIn.map { ", registered in \($0)" } ?? ", created \(utcText(c.created))"
            if let used = c.lastUsed { line += ", last used \(utcText(used))" }
            lines.append(line)
        }
        lines.append("authenticator: \(authenticatorText)")
        lines.append("security keys: \(securityKeysText)")
        lines.append("history on this host: \(hostHistoryText)")
        lines.append("offers: \(offerText)")
        let percent = policy.first { $0.key == "rollout_percent" }?.value ?? "?"
        lines.append("rollout: bucket \(rolloutBucket) of 0–99, \(insideRollout ? "inside" : "outside") rollout_percent = \(percent)")
        lines.append("policy (\(policySource)):")
        for (key, value) in policy { lines.append("  \(key) = \(value)") }
        return lines.joined(separator: "\n")
    }

    /// One line: "login=step_aside/credentials_elsewhere append=offer/create".
    public var summary: String { "login=\(login.name)/\(login.code) append=\(append.name)/\(append.code)" }

    /// The same as `text`, for programs. Keys are stable; an absent value is `null`.
    public var json: String {
        let s = signals
        var loginIDs: [JSONValue] = []
        if case .passkey(let ids) = login { loginIDs = ids.map { .string($0.text) } }
        var offerKind: JSONValue = .null, replaces: [JSONValue] = [], prompt: JSONValue = .null
        if case .offer(let o) = append {
            offerKind = .string(o.code)
            prompt = .string(o.prompt)
            if case .replace(let ids, _) = o { replaces = ids.map { .string($0.text) } }
        }
        let fault: Bool = if case .stepAside(let r) = login { r.isFault } else { false }
        let loginPrompt: String? = if case .passkey = login { Wording.pinPrompt(user: s.user, hostName: s.host.name) } else { nil }
        let value = JSONValue.object([
            ("format", .int(1)),
            ("user", .string(s.user)),
            ("uid", .int(s.uid.map { Int64($0) })),
            ("host", .object([("id", .string(s.host.id)), ("name", .string(s.host.name))])),
            ("now", .int(s.now)),
            ("session", .object([
                ("service", .string(s.session.service)),
                ("rhost", .string(s.session.rhost)),
                ("tty", .string(s.session.tty)),
                ("conversation", .bool(s.session.hasConversation)),
                ("silent", .bool(s.session.silent)),
                ("caller_uid", .int(s.session.callerUID.map { Int64($0) })),
                ("remote", .bool(remote)),
            ])),
            ("login", .object([
                ("decision", .string(login.name)),
                ("reason", .string(login.code)),
                ("summary", .string(login.summary)),
                ("message", .string(login.userMessage(session: s.session))),
                ("prompt", .string(loginPrompt)),
                ("credentials", .array(loginIDs)),
                ("fault", .bool(fault)),
            ])),
            ("append", .object([
                ("decision", .string(append.name)),
                ("reason", .string(append.code)),
                ("summary", .string(append.summary)),
                ("offer", offerKind),
                ("replaces", .array(replaces)),
                ("prompt", prompt),
            ])),
            ("credentials", .array(credentials.map { a in
                let c = a.credential
                return .object([
                    ("id", .string(c.id.text)),
                    ("status", .string(a.status.rawValue)),
                    ("kind", .string(c.kind.rawValue)),
                    ("host_id", .string(c.hostID)),
                    ("host_name", .string(c.hostName)),
                    ("backup_eligible", .bool(c.backupEligible)),
                    ("backed_up", .bool(c.backedUp)),
                    ("aaguid", .string(c.aaguid)),
                    ("transports", .array(c.transports.map { .string($0) })),
                    ("revoked", .bool(c.revoked)),
                    ("sign_count", .int(Int64(c.signCount))),
                    ("created", .int(c.created)),
                    ("last_used", .int(c.lastUsed)),
                    ("registered_in", .string(c.registeredIn)),
                ])
            })),
            ("authenticator", .object([
                ("state", .string(s.authenticator.state.rawValue)),
                ("detail", .string(s.authenticator.detail)),
                ("held", .array(s.authenticator.held.map { .object([("id", .string($0.id.text)), ("locked", .bool($0.locked))]) })),
            ])),
            ("security_keys", .object([
                ("state", .string(s.securityKeys.state.rawValue)),
                ("present", .int(Int64(s.securityKeys.present))),
                ("held", .array(s.securityKeys.held.map { .object([("id", .string($0.id.text)), ("locked", .bool($0.locked))]) })),
            ])),
            ("history", .object([
                ("consecutive_cancels", .int(s.history.host.consecutiveCancels)),
                ("last_cancel", .int(s.history.host.lastCancel)),
                ("last_passkey_login", .int(s.history.host.lastPasskeyLogin)),
                ("never_since", .int(s.history.host.neverSince)),
                ("offers_last_30_days", .int(s.history.offers.count(before: s.now))),
                ("unanswered_in_a_row", .int(s.history.offers.unansweredInARow)),
                ("last_declined", .int(s.history.offers.lastDeclined)),
                ("offers", .array(s.history.offers.recent.map { o in
                    .object([("time", .int(o.time)), ("host", .string(o.hostName)),
                             ("service", .string(o.service)), ("answer", .string(o.answer.rawValue))])
                })),
            ])),
            ("rollout_bucket", .int(rolloutBucket)),
            ("policy", .object([("source", .string(policySource))] + policy.map { ($0.key, .string($0.value)) })),
        ])
        return value.render()
    }

    private var credentialCountText: String {
        if credentials.isEmpty { return "none registered" }
        var counts: [CredentialStatus: Int] = [:]
        for a in credentials { counts[a.status, default: 0] += 1 }
        return CredentialStatus.allCases.compactMap { st in counts[st].map { "\($0) \(st.rawValue)" } }.joined(separator: ", ")
    }

    private var authenticatorText: String {
        let a = signals.authenticator
        switch a.state {
        case .healthy:
            let locked = a.held.count { $0.locked }
            return "healthy, holds \(a.held.count) of the user's credentials" + (locked > 0 ? " (\(locked) locked)" : "")
        case .unavailable, .broken:
            return "\(a.state.rawValue): \(a.detail ?? "no detail")"
        case .notProbed:
            return "not probed (the session alone decided)"
        }
    }

    private var securityKeysText: String {
        let k = signals.securityKeys
        switch k.state {
        case .notProbed:
            return "not looked at (no security-key passkey, or the session alone decided)"
        case .probed:
            let plugged = k.present == 1 ? "1 plugged in" : "\(k.present) plugged in"
            let blocked = k.held.count { $0.locked }
            return plugged + ", holding \(k.held.count) of the user's credentials" + (blocked > 0 ? " (\(blocked) with the PIN blocked)" : "")
        }
    }

    private var hostHistoryText: String {
        let h = signals.history.host
        var parts = ["\(h.consecutiveCancels) cancelled PIN prompt\(h.consecutiveCancels == 1 ? "" : "s") in a row"]
        if let t = h.lastCancel { parts.append("last cancel \(utcText(t))") }
        parts.append(h.lastPasskeyLogin.map { "last passkey login \(utcText($0))" } ?? "no passkey login yet")
        if let t = h.neverSince { parts.append("answered \"never\" at \(utcText(t))") }
        return parts.joined(separator: "; ")
    }

    private var offerText: String {
        let o = signals.history.offers
        var parts = ["\(o.count(before: signals.now)) in the last 30 days"]
        if let last = o.recent.last { parts.append("last \(last.answer.rawValue) on \(last.hostName) (\(last.service)) at \(utcText(last.time))") }
        if o.unansweredInARow > 0 { parts.append("\(o.unansweredInARow) unanswered in a row") }
        if let d = o.lastDeclined { parts.append("last \"n\" at \(utcText(d))") }
        return parts.joined(separator: "; ")
    }
}

/// Explains what would happen for `signals` under `policy`.
public func explain(_ signals: Signals, policy: Policy) -> Explanation {
    let listed: (([String]) -> String) = { $0.isEmpty ? "none" : $0.joined(separator: ", ") }
    let bucket = rolloutBucket(user: signals.user)
    return Explanation(
        signals: signals,
        login: decideLogin(signals, policy: policy),
        append: decideAppend(signals, policy: policy),
        credentials: assessCredentials(signals),
        remote: isRemote(rhost: signals.session.rhost, localHostName: signals.host.name),
        rolloutBucket: bucket,
        insideRollout: bucket < policy[.rolloutPercent],
        policy: [
            ("remote_sessions", policy[.remoteSessions].rawValue),
            ("noninteractive_services", listed(policy[.noninteractiveServices])),
            ("cancel_threshold", String(policy[.cancelThreshold])),
            ("cancel_snooze", durationText(policy[.cancelSnooze])),
            ("append", policy[.append] ? "yes" : "no"),
            ("append_skip_services", listed(policy[.appendSkipServices])),
            ("min_uid", String(policy[.minUID])),
            ("append_snooze_days", String(policy[.appendSnoozeDays])),
            ("append_max_offers", String(policy[.appendMaxOffers])),
            ("rollout_percent", String(policy[.rolloutPercent])),
        ],
        policySource: policy.source)
}

private extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
    var trimmingTrailingSpace: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
    func padded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
