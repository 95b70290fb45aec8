import Registry

/// What the decision needs to know about this user's past on this host. These mutators are
/// the only way the module, passkeyctl and the fleet simulator change it, so all three apply
/// exactly the same rules.
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

    /// The user answered a PIN prompt with nothing ("use my password instead").
    public mutating func recordCancel(at time: Int64) {
        consecutiveCancels += 1
        lastCancel = time
    }

    /// A passkey login succeeded: earlier cancels no longer count against the passkey.
    public mutating func recordPasskeyLogin(at time: Int64) {
        consecutiveCancels = 0
        lastCancel = nil
        lastPasskeyLogin = time
    }

    /// An append offer made here and its answer: "never" means no more offers on this host.
    /// (The fleet-wide offer log, which the limits read, is the registry's `OfferLog`.)
    public mutating func recordOffer(answer: OfferAnswer, at time: Int64) {
        if answer == .never { neverSince = time }
    }
}
