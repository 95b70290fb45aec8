import HostState
import Intelligence
import Registry
import Policy
import Identifiers

/// What to simulate.
public struct FleetConfiguration: Sendable {
    public var users: Int
    public var hosts: Int
    public var days: Int
    public var seed: UInt64
    public var policy: Policy
    /// Day 0 starts here (2026-01-01 00:00 UTC by default).
    public var start: Int64
    /// Share of users who own a FIDO2 security key, enrolled before day 0 on their primary
    /// machine, and how often it is plugged in at a login at the machine.
    public var securityKeyShare: Double
    public var securityKeyPluggedIn: Double

    public init(users: Int = 1000, hosts: Int = 50, days: Int = 90, seed: UInt64 = 1,
                policy: Policy = Policy(), start: Int64 = 1_767_225_600,
                securityKeyShare: Double = 0, securityKeyPluggedIn: Double = 0.7) {
        self.securityKeyShare = securityKeyShare
        self.securityKeyPluggedIn = securityKeyPluggedIn
        self.users = users
        self.hosts = hosts
        self.days = days
        self.seed = seed
        self.policy = policy
        self.start = start
    }
}

/// Runs `configuration` through the real `decideLogin` / `decideAppend`, with the history
/// updates the module makes (`History.record…`), and reports what happened.
///
/// The world: each user has a primary machine, a few others they sometimes sit at, and
/// servers they reach over ssh; they log in at the console, unlock screens, ssh in from
/// elsewhere (and now and then to localhost), run sudo and su; some get cron sessions.
/// Along the way users get new machines, hosts are reinstalled (new host id, state lost) or
/// lose their state directory (same id), authenticators fail for a day, people forget PINs
/// (wrong PINs until the key locks, then the heal path), cancel PIN prompts, and answer
/// offers y / n / never or not at all, each after their temperament.
public func simulateFleet(_ configuration: FleetConfiguration) -> FleetReport {
    simulateFleet(configuration, loginDecision: decideLogin)
}

/// The same with another login decision in place of the real one, so tests can show that
/// the dead-end count does catch a decision that prompts where no passkey can work.
func simulateFleet(_ configuration: FleetConfiguration,
                   loginDecision: @escaping (Signals, Policy) -> LoginDecision) -> FleetReport {
    var fleet = Fleet(configuration, loginDecision: loginDecision)
    fleet.run()
    return fleet.report
}

struct Fleet {
    let config: FleetConfiguration
    let policy: Policy
    let loginDecision: (Signals, Policy) -> LoginDecision
    var random: SeededRandom
    /// The security keys' own draws, so a fleet without keys runs exactly as before.
    var keyRandom: SeededRandom
    /// Each user's security-key credential, if they own a key.
    var securityKey: [CredentialID?] = []
    var hosts: [SimHost] = []
    var users: [SimUser] = []
    /// The shared registry: each user's credentials and offer log, seen by every host.
    var registry: [[CredentialSignal]] = []
    var offerLogs: [OfferLog] = []
    var nextCredential = 0
    var report: FleetReport

    static let consoleServices = ["gdm-password", "gdm-password", "login", "lightdm", "xscreensaver"]

    init(_ config: FleetConfiguration, loginDecision: @escaping (Signals, Policy) -> LoginDecision) {
        precondition(config.users > 0 && config.hosts > 1 && config.days > 0)
        self.config = config
        self.loginDecision = loginDecision
        policy = config.policy
        random = SeededRandom(seed: config.seed)
        keyRandom = SeededRandom(seed: config.seed ^ 0x5EC0_4E7C_E715)
        report = FleetReport(users: config.users, hosts: config.hosts, days: config.days, seed: config.seed,
                             maxOffersAllowed: config.policy[.appendMaxOffers])

        // One host in 25 has no authenticator.
        let withoutAuthenticator = max(1, config.hosts / 25)
        for h in 0..<config.hosts {
            hosts.append(SimHost(name: "host-\(h < 10 ? "0" : "")\(h)", hasAuthenticator: h >= withoutAuthenticator))
        }
        for u in 0..<config.users {
            let temperament = [Temperament.eager, .hesitant, .refuser, .passwordHabit][random.weighted([0.45, 0.35, 0.12, 0.08])]
            // A few shared/system accounts with uids below min_uid still log in interactively.
            let uid: UInt32 = random.chance(0.02) ? UInt32(900 + random.below(99)) : UInt32(1000 + u)
            var user = SimUser(name: "user\(String(u + 10_000).dropFirst())", uid: uid, temperament: temperament,
                               primary: random.below(config.hosts), secondaries: [], servers: [])
            for _ in 0..<random.below(3) { user.secondaries.append(random.below(config.hosts)) }
            for _ in 0..<(2 + random.below(4)) { user.servers.append(random.below(config.hosts)) }
            users.append(user)
        }
        registry = Array(repeating: [], count: config.users)
        offerLogs = Array(repeating: OfferLog(), count: config.users)
        securityKey = Array(repeating: nil, count: config.users)
        for u in users.indices where config.securityKeyShare > 0 && keyRandom.chance(config.securityKeyShare) {
            let id = CredentialID(Array("key\(u)".utf8))
            let home = hosts[users[u].primary]
            securityKey[u] = id
            registry[u].append(CredentialSignal(id: id, kind: .roaming, hostID: home.id, hostName: home.name,
                                                transports: ["usb"], created: config.start))
            report.securityKeyUsers += 1
        }
    }

    mutating func run() {
        for day in 0..<config.days {
            hostEvents(day: day)
            let dayStart = config.start + Int64(day) * 86_400
            let weekday = ((dayStart / 86_400) + 4) % 7  // 0 = Sunday; 1970-01-01 was a Thursday
            let weekend = weekday == 0 || weekday == 6
            for u in users.indices {
                for session in plan(user: u, dayStart: dayStart, weekend: weekend) {
                    simulate(session, day: day)
                }
            }
        }
        finish()
    }

    /// Reinstalls, lost state directories, failing authenticators.
    mutating func hostEvents(day: Int) {
        for h in hosts.indices {
            if random.chance(0.002) {
                hosts[h].generation += 1
                hosts[h].loseState()
                report.reinstalls += 1
            } else if random.chance(0.0008) {
                hosts[h].loseState()
                report.stateLosses += 1
            }
            if hosts[h].hasAuthenticator && random.chance(0.002) {
                hosts[h].brokenOnDay = day
                report.brokenAuthenticatorDays += 1
            }
        }
    }

    /// The user's sessions of one day, in time order.
    mutating func plan(user u: Int, dayStart: Int64, weekend: Bool) -> [PlannedSession] {
        if random.chance(0.003) {
            // A new machine: the old one becomes one they sometimes use.
            var user = users[u]
            var next = random.below(config.hosts)
            if next == user.primary { next = (next + 1) % config.hosts }
            user.secondaries = Array(([user.primary] + user.secondaries).prefix(3))
            user.primary = next
            users[u] = user
            report.newMachines += 1
        }
        let user = users[u]
        var out: [PlannedSession] = []
        func at(_ hour: Int) -> Int64 { dayStart + Int64(hour) * 3600 + Int64(random.below(3600)) }

        let consoleLogins = weekend ? (random.chance(0.25) ? 1 : 0) : 1 + random.below(3)
        for i in 0..<consoleLogins {
            out.append(PlannedSession(time: at(8 + 3 * i), user: u, host: user.primary, kind: .console))
            if random.chance(0.3) { out.append(PlannedSession(time: at(9 + 3 * i), user: u, host: user.primary, kind: .sudo)) }
        }
        if !user.secondaries.isEmpty && random.chance(weekend ? 0.02 : 0.12) {
            out.append(PlannedSession(time: at(14), user: u, host: random.pick(user.secondaries), kind: .console))
        }
        let sshSessions = random.chance(weekend ? 0.15 : 0.5) ? 1 + random.below(3) : 0
        for _ in 0..<sshSessions {
            // Mostly servers; sometimes their own desk from home.
            let target = random.chance(0.15) ? user.primary : random.pick(user.servers)
            out.append(PlannedSession(time: at(7 + random.below(14)), user: u, host: target, kind: .sshRemote))
        }
        if random.chance(0.02) { out.append(PlannedSession(time: at(16), user: u, host: user.primary, kind: .sshLoopback)) }
        if random.chance(0.03) { out.append(PlannedSession(time: at(17), user: u, host: user.primary, kind: .su)) }
        if random.chance(0.05) { out.append(PlannedSession(time: at(2), user: u, host: random.pick(user.servers), kind: .cron)) }
        return out.sorted { $0.time < $1.time }
    }

    mutating func sessionSignal(_ kind: SessionKind) -> SessionSignal {
        switch kind {
        case .console:
            let service = random.pick(Self.consoleServices)
            // xscreensaver sets PAM_RHOST to "localhost", as Linux-PAM's guide recommends.
            return SessionSignal(service: service, rhost: service == "xscreensaver" ? "localhost" : nil,
                                 tty: service == "login" ? "tty1" : ":0")
        case .sshRemote:
            return SessionSignal(service: "sshd", rhost: "10.\(random.below(256)).\(random.below(256)).\(1 + random.below(254))", tty: "ssh")
        case .sshLoopback:
            return SessionSignal(service: "sshd", rhost: random.chance(0.5) ? "127.0.0.1" : "::1", tty: "ssh")
        case .sudo:
            return SessionSignal(service: "sudo", tty: "/dev/pts/\(random.below(8))")
        case .su:
            return SessionSignal(service: "su", tty: "/dev/pts/\(random.below(8))")
        case .cron:
            return SessionSignal(service: "cron", hasConversation: false)
        }
    }

    func signals(user u: Int, host h: Int, session: SessionSignal, now: Int64, day: Int, keyPluggedIn: Bool = false) -> Signals {
        // As the probe: keys are looked at only for a user with a security-key passkey.
        let keys: SecurityKeySignal = securityKey[u].map { id in
            keyPluggedIn ? .probed(present: 1, holding: [HeldCredentialSignal(id: id)]) : .probed(present: 0, holding: [])
        } ?? .notProbed
        return Signals(user: users[u].name, uid: users[u].uid, credentials: registry[u], host: hosts[h].identity,
                       authenticator: hosts[h].probe(user: u, day: day), securityKeys: keys, session: session,
                       history: History(host: hosts[h].history[u] ?? HostHistory(), offers: offerLogs[u]), now: now)
    }

    mutating func update(user u: Int, host h: Int, _ change: (inout History) -> Void) {
        var history = History(host: hosts[h].history[u] ?? HostHistory(), offers: offerLogs[u])
        change(&history)
        hosts[h].history[u] = history.host
        offerLogs[u] = history.offers
    }

    mutating func simulate(_ planned: PlannedSession, day: Int) {
        let u = planned.user, h = planned.host, now = planned.time
        let session = sessionSignal(planned.kind)
        let counted = day >= 30
        report.sessions += 1
        if planned.kind.isInteractive { report.interactiveLogins += 1 }
        if counted && planned.kind.isInteractive {
            report.loginsAfterDay30 += 1
            if planned.kind != .sshRemote { report.localLoginsAfterDay30 += 1 }
        }

        // A key is plugged in only where the person sits.
        let keyPluggedIn = securityKey[u] != nil && planned.kind != .sshRemote && planned.kind.isInteractive
            && keyRandom.chance(config.securityKeyPluggedIn)
        let login = loginDecision(signals(user: u, host: h, session: session, now: now, day: day, keyPluggedIn: keyPluggedIn), policy)
        if case .stepAside(let reason) = login { report.stepAside[reason.code, default: 0] += 1 }

        if case .passkey(let ids) = login {
            report.passkeyPrompts += 1
            let good = ids.filter { id in
                (id == securityKey[u] ? keyPluggedIn : hosts[h].canSign(id, user: u, day: day))
                    && registry[u].contains { $0.id == id && !$0.revoked }
            }
            report.unusableCredentialsPrompted += ids.count - good.count
            if let id = good.first {
                if passkeyCeremony(user: u, host: h, credential: id, now: now) {
                    report.passkeyLogins += 1
                    if counted {
                        report.passkeyLoginsAfterDay30 += 1
                        if planned.kind != .sshRemote { report.localPasskeyLoginsAfterDay30 += 1 }
                    }
                    return
                }
            } else {
                report.deadEnds += 1
            }
        }
        guard planned.kind.isInteractive else { return }

        // The password module succeeded; the append step gathers the signals again (a lockout
        // may just have happened) and decides.
        report.passwordLogins += 1
        let append = decideAppend(signals(user: u, host: h, session: session, now: now, day: day, keyPluggedIn: keyPluggedIn),
                                  policy: policy)
        guard case .offer(let offer) = append else {
            if case .noOffer(let reason) = append { report.noOffer[reason.code, default: 0] += 1 }
            return
        }
        makeOffer(offer, user: u, host: h, kind: planned.kind, session: session, now: now)
    }

    /// The PIN prompt: cancelled, wrong PINs (maybe to lockout), or a passkey login.
    mutating func passkeyCeremony(user u: Int, host h: Int, credential id: CredentialID, now: Int64) -> Bool {
        if !users[u].forgettingPIN && random.chance(0.004) { users[u].forgettingPIN = true }
        if random.chance(users[u].temperament.cancelRate) {
            report.cancels += 1
            update(user: u, host: h) { $0.recordCancel(at: now) }
            return false
        }
        // The key keeps its own PIN counter; the simulation models only the host's.
        if users[u].forgettingPIN && id != securityKey[u] {
            for _ in 0..<(1 + random.below(3)) {
                report.wrongPINs += 1
                hosts[h].keys[id]!.failures += 1
                if hosts[h].keys[id]!.failures >= policy[.pinMaxAttempts] {
                    hosts[h].keys[id]!.locked = true
                    report.lockouts += 1
                    break
                }
            }
            if random.chance(0.35) { users[u].forgettingPIN = false }
            return false
        }
        if id == securityKey[u] { report.securityKeyLogins += 1 } else { hosts[h].keys[id]!.failures = 0 }
        update(user: u, host: h) { $0.recordPasskeyLogin(at: now) }
        if let i = registry[u].firstIndex(where: { $0.id == id }) {
            registry[u][i].lastUsed = now
            registry[u][i].signCount += 1
        }
        return true
    }

    mutating func makeOffer(_ offer: AppendOffer, user u: Int, host h: Int, kind: SessionKind, session: SessionSignal, now: Int64) {
        report.offers += 1
        users[u].offerTimes.append(now)
        if kind.isRemote { report.remoteOffers += 1 }
        if kind == .sudo || kind == .su || kind == .cron { report.offersInSkippedServices += 1 }
        if case .replace = offer { report.healOffers += 1 }

        let answer = OfferAnswer.allCases[random.weighted(users[u].temperament.answers)]
        report.answers[answer.rawValue, default: 0] += 1
        let hostName = hosts[h].name
        update(user: u, host: h) { $0.recordOffer(answer: answer, service: session.service, hostName: hostName, at: now) }
        guard answer == .accepted else { return }
        // Choosing and confirming a PIN fails now and then (typo in the confirmation).
        guard random.chance(0.97) else { return }
        if case .replace(let ids, _) = offer {
            for id in ids {
                hosts[h].remove(id)
                if let i = registry[u].firstIndex(where: { $0.id == id }) { registry[u][i].revoked = true }
            }
            report.credentialsReplaced += ids.count
        }
        nextCredential += 1
        let id = CredentialID(Array("cred\(nextCredential)".utf8))
        hosts[h].add(id, user: u)
        registry[u].append(CredentialSignal(id: id, hostID: hosts[h].id, hostName: hosts[h].name, created: now))
        report.credentialsCreated += 1
    }

    mutating func finish() {
        let window = OfferLog.window
        for user in users {
            let times = user.offerTimes
            var i = 0
            for j in times.indices {
                while times[j] - times[i] >= window { i += 1 }
                report.maxOffersInWindow = max(report.maxOffersInWindow, j - i + 1)
            }
        }
        report.usersWithPasskey = users.indices.count { u in
            registry[u].contains { c in !c.revoked && hosts.contains { $0.keys[c.id]?.user == u } }
        }
    }
}
