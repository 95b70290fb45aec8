/// The append offers made to a user anywhere in the fleet, and the answers. Kept with the
/// user's registry record, so that where hosts share a registry the limits hold across all of
/// them: a user who said "n" on host-a is not asked again on host-b the next morning, and
/// `append_max_offers` bounds the offers in any 30 days, not per host.
public struct OfferLog: Sendable, Codable, Equatable {
    /// `append_max_offers` also bounds the offers in any window this long.
    public static let window: Int64 = 30 * 86_400

    /// Offers of the last `window` seconds (older ones are dropped when a new one is recorded).
    public var recent: [OfferRecord]
    /// Offers in a row that got no answer. Once `append_max_offers` is reached no more offers
    /// are made, so the count stays until an administrator clears it.
    public var unansweredInARow: Int
    /// The last "n", kept beyond the window because `append_snooze_days` may be up to a year.
    public var lastDeclined: Int64?

    public init(recent: [OfferRecord] = [], unansweredInARow: Int = 0, lastDeclined: Int64? = nil) {
        self.recent = recent
        self.unansweredInARow = unansweredInARow
        self.lastDeclined = lastDeclined
    }

    /// Offers made in the window ending at `now`: the ones with `now - time < window`. One
    /// stamped after `now` counts too: it was made — by a clock that has since moved
    /// backwards, or by a host whose clock runs ahead — and leaving it out would let the
    /// limit be exceeded.
    public func count(before now: Int64) -> Int {
        recent.reduce(0) { $0 + ($1.time > now - Self.window ? 1 : 0) }
    }

    /// An offer was shown (on `hostName`, for `service`) and answered — or not. ("never" also
    /// belongs to the host's own history: see `HostHistory.recordOffer`.)
    public mutating func record(answer: OfferAnswer, service: String, hostName: String, at time: Int64) {
        recent.removeAll { $0.time <= time - Self.window }
        recent.append(OfferRecord(time: time, hostName: hostName, service: service, answer: answer))
        unansweredInARow = answer == .unanswered ? unansweredInARow + 1 : 0
        if answer == .declined { lastDeclined = time }
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
