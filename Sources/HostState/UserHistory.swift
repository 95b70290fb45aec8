import Registry
import Storage
import Identifiers

/// What happened for one user on this host: the signals the decision uses (cancels in a row,
/// offers and their answers, lockout) and counters for `passkeyctl report`. Kept under
/// `state_dir/history/USER.json`, root only.
public struct UserHistory: VersionedDocument {
    /// Version 1: this layout. A file with a higher number is refused, not rewritten.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var user: String
    /// What the decision reads (cancels, "never", last passkey login).
    public var host: HostHistory
    public var lastPasswordLogin: EpochSeconds?
    /// Set when the helper reports this host's credential locked by wrong PINs.
    public var lockout: LockoutNote?
    public var counters: HistoryCounters

    public init(user: UserName) {
        schemaVersion = Self.currentSchemaVersion
        self.user = user.rawValue
        host = HostHistory()
        counters = HistoryCounters()
    }

    public static func empty(for user: UserName) -> UserHistory { UserHistory(user: user) }

    // MARK: - Events (the decision's part is HostHistory's; the rest is for the report)

    public mutating func recordPasskeyLogin(at time: EpochSeconds) {
        host.recordPasskeyLogin(at: time)
        lockout = nil
        counters.passkeyLogins += 1
    }

    /// A password login after the module stepped aside; `fallbackReason` is the decision's
    /// reason code (counted per reason for the report), nil when the module was not involved.
    public mutating func recordPasswordLogin(at time: EpochSeconds, fallbackReason: String?) {
        lastPasswordLogin = time
        if let reason = fallbackReason { counters.fallbacks[reason, default: 0] += 1 }
    }

    /// An empty answer to the PIN prompt.
    public mutating func recordCancel(at time: EpochSeconds) {
        host.recordCancel(at: time)
    }

    /// An offer made on this host and its answer. (The fleet-wide offer log, which the limits
    /// read, is the registry's `OfferLog`.)
    public mutating func recordOffer(answer: OfferAnswer, at time: EpochSeconds) {
        host.recordOffer(answer: answer, at: time)
        counters.offers += 1
        switch answer {
        case .accepted: counters.accepted += 1
        case .declined: counters.declined += 1
        case .never:
            counters.never += 1
        case .unanswered: break
        }
    }

    public mutating func recordLockout(credentialID: CredentialID, at time: EpochSeconds) {
        lockout = LockoutNote(credentialID: credentialID, time: time)
        counters.pinLockouts += 1
    }
}

public struct LockoutNote: Codable, Sendable, Equatable {
    /// base64url, as in the registry.
    public var credentialID: CredentialID
    public var time: EpochSeconds

    public init(credentialID: CredentialID, time: EpochSeconds) {
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
