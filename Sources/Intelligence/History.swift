/// What happened before, in two parts because they live in different places:
///
/// - `host`: this user on this host (cancelled PIN prompts, "never", last passkey login). It
///   belongs to the host's private state.
/// - `offers`: the append offers made to this user and the answers. Where the registry is
///   shared, this log should be stored with the user's registry record so that the limits
///   (`append_snooze_days` after "n", `append_max_offers`) hold across the whole fleet: a
///   user who said "n" on host-a is not asked again on host-b the next morning. A store that
///   keeps it per host gives the same guarantees per host. The decision reads whichever it is
///   given.
///
/// The `record…` functions are the only way the module, the CLI and the simulator change a
/// history, so all three apply exactly the same updates.
public struct History: Sendable, Codable, Equatable {
    public var host: HostHistory
    public var offers: OfferLog

    public init(host: HostHistory = HostHistory(), offers: OfferLog = OfferLog()) {
        self.host = host
        self.offers = offers
    }

    /// The user answered a PIN prompt with nothing ("use my password instead").
    public mutating func recordCancel(at time: Int64) {
        host.consecutiveCancels += 1
        host.lastCancel = time
    }

    /// A passkey login succeeded: cancels no longer count against the passkey.
    public mutating func recordPasskeyLogin(at time: Int64) {
        host.consecutiveCancels = 0
        host.lastCancel = nil
        host.lastPasskeyLogin = time
    }

    /// An append offer was shown (on `hostName`, for `service`) and answered — or not.
    public mutating func recordOffer(answer: OfferAnswer, service: String, hostName: String, at time: Int64) {
        offers.recent.removeAll { $0.time <= time - OfferLog.window }
        offers.recent.append(OfferRecord(time: time, hostName: hostName, service: service, answer: answer))
        offers.unansweredInARow = answer == .unanswered ? offers.unansweredInARow + 1 : 0
        switch answer {
        case .declined: offers.lastDeclined = time
        case .never: host.neverSince = time
        case .accepted, .unanswered: break
        }
    }
}

public struct HostHistory: Sendable, Codable, Equatable {
    /// PIN prompts answered with nothing since the last passkey login on this host.
    public var consecutiveCancels: Int
    public var lastCancel: Int64?
    public var lastPasskeyLogin: Int64?
    /// When the user answered "never" to an offer on this host; nil if they have not.
    public var neverSince: Int64?

    public init(consecutiveCancels: Int = 0, lastCancel: Int64? = nil, lastPasskeyLogin: Int64? = nil, neverSince: Int64? = nil) {
        self.consecutiveCancels = consecutiveCancels
        self.lastCancel = lastCancel
        self.lastPasskeyLogin = lastPasskeyLogin
        self.neverSince = neverSince
    }
}

public enum OfferAnswer: String, Sendable, Codable, CaseIterable {
    /// "y" (or an empty answer: Y is the default).
    case accepted
    /// "n": ask again after `append_snooze_days`.
    case declined
    /// "never": not on this host again.
    case never
    /// No answer came back (the conversation failed or the client cannot show prompts).
    case unanswered
}

public struct OfferRecord: Sendable, Codable, Equatable {
    public var time: Int64
    public var hostName: String
    public var service: String
    public var answer: OfferAnswer

    public init(time: Int64, hostName: String, service: String, answer: OfferAnswer) {
        self.time = time
        self.hostName = hostName
        self.service = service
        self.answer = answer
    }
}

public struct OfferLog: Sendable, Codable, Equatable {
    /// `append_max_offers` also bounds the offers in any window this long.
    public static let window: Int64 = 30 * 86_400

    /// Offers of the last `window` seconds (older ones are dropped when a new one is recorded).
    public var recent: [OfferRecord]
    /// Offers in a row that got no answer. Once `append_max_offers` is reached no more offers
    /// are made, so the count stays until an administrator clears the history.
    public var unansweredInARow: Int
    /// The last "n", kept beyond the window because `append_snooze_days` may be up to a year.
    public var lastDeclined: Int64?

    public init(recent: [OfferRecord] = [], unansweredInARow: Int = 0, lastDeclined: Int64? = nil) {
        self.recent = recent
        self.unansweredInARow = unansweredInARow
        self.lastDeclined = lastDeclined
    }

    /// Offers made in the window ending at `now`: the ones with `now - time < window`.
    public func count(before now: Int64) -> Int {
        recent.reduce(0) { $0 + ($1.time > now - Self.window && $1.time <= now ? 1 : 0) }
    }
}
