import Storage

/// What happened for one user on this host: the signals the decision uses (cancels in a row,
/// offers and their answers, lockout) and counters for `passkeyctl report`. Kept under
/// `state_dir/history/USER.json`, root only.
public struct UserHistory: VersionedDocument {
    /// Version 1: this layout. A file with a higher number is refused, not rewritten.
    public static let currentSchemaVersion = 1
    /// Offers kept, newest last. `append_max_offers` is at most 100, so the decision never
    /// needs older ones, and the file stays small however long the host lives.
    public static let maxOffersKept = 100

    public var schemaVersion: Int
    public var user: String
    public var lastPasskeyLogin: EpochSeconds?
    public var lastPasswordLogin: EpochSeconds?
    /// Empty PIN answers ("use my password") in a row, reset by a passkey login.
    public var consecutiveCancels: Int
    public var lastCancel: EpochSeconds?
    public var offers: [AppendOffer]
    /// The user answered "never": no more offers on this host.
    public var never: Bool
    /// Set when the helper reports this host's credential locked by wrong PINs.
    public var lockout: LockoutNote?
    public var counters: HistoryCounters

    public init(user: UserName) {
        schemaVersion = Self.currentSchemaVersion
        self.user = user.rawValue
        consecutiveCancels = 0
        offers = []
        never = false
        counters = HistoryCounters()
    }

    public static func empty(for user: UserName) -> UserHistory { UserHistory(user: user) }

    // MARK: - Events

    public mutating func recordPasskeyLogin(at time: EpochSeconds) {
        lastPasskeyLogin = time
        consecutiveCancels = 0
        lockout = nil
        counters.passkeyLogins += 1
    }

    /// A password login after the module stepped aside; `fallbackReason` is the decision's
    /// reason (counted per reason for the report), nil when the module was not involved.
    public mutating func recordPasswordLogin(at time: EpochSeconds, fallbackReason: String?) {
        lastPasswordLogin = time
        if let reason = fallbackReason { counters.fallbacks[reason, default: 0] += 1 }
    }

    /// An empty answer to the PIN prompt.
    public mutating func recordCancel(at time: EpochSeconds) {
        consecutiveCancels += 1
        lastCancel = time
    }

    public mutating func recordOffer(_ offer: AppendOffer) {
        offers.append(offer)
        if offers.count > Self.maxOffersKept { offers.removeFirst(offers.count - Self.maxOffersKept) }
        counters.offers += 1
        switch offer.answer {
        case .accepted: counters.accepted += 1
        case .declined: counters.declined += 1
        case .never:
            counters.never += 1
            never = true
        case .unanswered: break
        }
    }

    public mutating func recordLockout(credentialID: String, at time: EpochSeconds) {
        lockout = LockoutNote(credentialID: credentialID, time: time)
        counters.pinLockouts += 1
    }

    // MARK: - Questions the decision asks

    /// Offers since the user last gave an answer (accepted, declined or never).
    public var unansweredOffersInARow: Int {
        offers.reversed().prefix { $0.answer == .unanswered }.count
    }

    /// The most recent offer with this answer.
    public func lastOffer(answered answer: OfferAnswer) -> AppendOffer? {
        offers.last { $0.answer == answer }
    }

    /// Offers made at or after `time`.
    public func offers(since time: EpochSeconds) -> Int {
        offers.filter { $0.time >= time }.count
    }
}

/// One "Create a passkey for this computer?" and what came of it.
public struct AppendOffer: Codable, Sendable, Equatable {
    public var time: EpochSeconds
    public var answer: OfferAnswer
    /// The PAM service it was made in (login, sshd, gdm-password, …).
    public var service: String

    public init(time: EpochSeconds, answer: OfferAnswer, service: String) {
        self.time = time
        self.answer = answer
        self.service = service
    }
}

public enum OfferAnswer: String, Codable, Sendable, CaseIterable {
    case accepted, declined, never
    /// The conversation ended (or failed) without an answer.
    case unanswered
}

public struct LockoutNote: Codable, Sendable, Equatable {
    /// base64url, as in the registry.
    public var credentialID: String
    public var time: EpochSeconds

    public init(credentialID: String, time: EpochSeconds) {
        self.credentialID = credentialID
        self.time = time
    }
}

/// Totals since the history began, for `passkeyctl report`; never used to decide.
public struct HistoryCounters: Codable, Sendable, Equatable {
    public var passkeyLogins = 0
    /// Password logins after the module stepped aside, by the decision's reason.
    public var fallbacks: [String: Int] = [:]
    public var offers = 0
    public var accepted = 0
    public var declined = 0
    public var never = 0
    public var pinLockouts = 0

    public init() {}
}
