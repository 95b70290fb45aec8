/// The figures of one simulated fleet.
public struct FleetReport: Sendable, Equatable {
    public let users: Int
    public let hosts: Int
    public let days: Int
    public let seed: UInt64
    public let maxOffersAllowed: Int

    public var sessions = 0
    public var interactiveLogins = 0
    public var passkeyPrompts = 0
    /// Passkey prompts where none of the prompted credentials could have signed here.
    public var deadEnds = 0
    /// Credentials named in a prompt that could not have signed (zero when dead ends are).
    public var unusableCredentialsPrompted = 0
    public var passkeyLogins = 0
    public var passwordLogins = 0
    public var loginsAfterDay30 = 0
    public var passkeyLoginsAfterDay30 = 0
    public var localLoginsAfterDay30 = 0
    public var localPasskeyLoginsAfterDay30 = 0

    public var offers = 0
    public var remoteOffers = 0
    public var offersInSkippedServices = 0
    public var healOffers = 0
    public var answers: [String: Int] = [:]
    public var maxOffersInWindow = 0
    public var credentialsCreated = 0
    public var credentialsReplaced = 0
    public var usersWithPasskey = 0

    public var newMachines = 0
    public var reinstalls = 0
    public var stateLosses = 0
    public var brokenAuthenticatorDays = 0
    public var cancels = 0
    public var wrongPINs = 0
    public var lockouts = 0

    public var securityKeyUsers = 0
    public var securityKeyLogins = 0

    public var stepAside: [String: Int] = [:]
    public var noOffer: [String: Int] = [:]

    public var deadEndRate: Double { passkeyPrompts == 0 ? 0 : Double(deadEnds) / Double(passkeyPrompts) }
    public var meanOffersPerUserPer30Days: Double { Double(offers) / Double(users) / (Double(days) / 30) }

    public func render() -> String {
        var out: [String] = []
        func line(_ label: String, _ value: String) {
            out.append(label + String(repeating: " ", count: max(1, 48 - label.count)) + value)
        }
        func pct(_ a: Int, _ b: Int) -> String { b == 0 ? "n/a" : fixed(100 * Double(a) / Double(b), 1) + "%" }

        out.append("passkey-fleet-sim: \(users) users × \(hosts) hosts × \(days) days, seed \(seed)")
        out.append("")
        line("sessions simulated", "\(sessions) (\(interactiveLogins) interactive logins, \(sessions - interactiveLogins) non-interactive)")
        line("passkey prompts", "\(passkeyPrompts)")
        line("dead ends (prompt could not succeed here)", "\(deadEnds)  rate \(fixed(deadEndRate * 100, 3))%")
        line("logins completed by passkey", "\(passkeyLogins) of \(interactiveLogins) (\(pct(passkeyLogins, interactiveLogins)))")
        line("  after day 30, all logins", pct(passkeyLoginsAfterDay30, loginsAfterDay30))
        line("  after day 30, at the machine (not ssh)", pct(localPasskeyLoginsAfterDay30, localLoginsAfterDay30))
        line("offers made", "\(offers) (\(healOffers) to replace a locked or lost passkey)")
        line("  answers", ["accepted", "declined", "never", "unanswered"].map { "\($0) \(answers[$0] ?? 0)" }.joined(separator: ", "))
        line("offers per user per 30 days", "mean \(fixed(meanOffersPerUserPer30Days, 3)), max in any 30-day window \(maxOffersInWindow) (append_max_offers = \(maxOffersAllowed))")
        line("offers on remote sessions", "\(remoteOffers)")
        line("offers in sudo/su/cron", "\(offersInSkippedServices)")
        line("passkeys created", "\(credentialsCreated) (\(credentialsReplaced) replaced)")
        line("users with a working passkey at the end", "\(usersWithPasskey) of \(users)")
        line("events", "\(newMachines) new machines, \(reinstalls) reinstalls, \(stateLosses) lost host states, \(brokenAuthenticatorDays) authenticator-broken days")
        line("", "\(cancels) cancelled PIN prompts, \(wrongPINs) wrong PINs, \(lockouts) lockouts")
        if securityKeyUsers > 0 {
            line("security keys", "\(securityKeyUsers) users own one; \(securityKeyLogins) logins with a key")
        }
        out.append("")
        out.append("step-aside reasons (of \(sessions - passkeyPrompts) step-asides):")
        for (code, n) in stepAside.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            line("  \(code)", "\(n) (\(pct(n, sessions - passkeyPrompts)))")
        }
        out.append("no-offer reasons after a password (of \(passwordLogins - offers)):")
        for (code, n) in noOffer.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            line("  \(code)", "\(n) (\(pct(n, passwordLogins - offers)))")
        }
        return out.joined(separator: "\n")
    }
}

/// `value` with `digits` decimals, without Foundation's formatting.
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let n = Int((value * scale).rounded())
    if digits == 0 { return String(n) }
    let sign = n < 0 ? "-" : ""
    let s = String(abs(n))
    let padded = String(repeating: "0", count: max(0, digits + 1 - s.count)) + s
    return sign + padded.dropLast(digits) + "." + padded.suffix(digits)
}
