import HostState
import Registry

/// What happened before, in two parts because they live in different places:
///
/// - `host`: this user on this host (cancelled PIN prompts, "never", last passkey login),
///   kept in the host's private state (`HostState.UserHistory`).
/// - `offers`: the append offers made to this user and the answers, kept with the user's
///   registry record so that the limits (`append_snooze_days` after "n",
///   `append_max_offers`) hold across every host sharing the registry.
///
/// The mutators live on `HostHistory` and `OfferLog`; these compose them for the simulator
/// and tests, so everyone applies exactly the same updates.
public struct History: Sendable, Codable, Equatable {
    public var host: HostHistory
    public var offers: OfferLog

    public init(host: HostHistory = HostHistory(), offers: OfferLog = OfferLog()) {
        self.host = host
        self.offers = offers
    }

    public mutating func recordCancel(at time: Int64) { host.recordCancel(at: time) }

    public mutating func recordPasskeyLogin(at time: Int64) { host.recordPasskeyLogin(at: time) }

    /// An append offer was shown (on `hostName`, for `service`) and answered — or not.
    public mutating func recordOffer(answer: OfferAnswer, service: String, hostName: String, at time: Int64) {
        offers.record(answer: answer, service: service, hostName: hostName, at: time)
        host.recordOffer(answer: answer, at: time)
    }
}

