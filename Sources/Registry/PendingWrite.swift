import Identifiers
import Storage

/// One change to a user's record, as the registry port makes it, kept so it can be sent to a
/// directory later (`WriteQueue`) and applied again to a record read back from it. Each
/// `apply` is the files registry's own change, so a record means the same on both backends.
public struct PendingWrite: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// `credential` registered on `host`; `credentialIDs` revoked with it (the heal path).
        case register
        /// A verified login with `credentialIDs[0]` whose signature carried `signCount`.
        case login
        /// A refused signature whose counter went backwards (`regression`).
        case regression
        /// `credentialIDs` revoked by `revokedBy`.
        case revoke
        /// An append offer on `host` for `service`, answered `answer`.
        case offer
    }

    public var kind: Kind
    public var user: String
    public var time: EpochSeconds
    /// The host name where it happened.
    public var host: String
    public var credential: CredentialRecord?
    public var credentialIDs: [CredentialID]?
    public var signCount: UInt32?
    public var regression: SignCountRegression?
    public var revokedBy: String?
    public var answer: OfferAnswer?
    public var service: String?

    public init(kind: Kind, user: UserName, time: EpochSeconds, host: String, credential: CredentialRecord? = nil,
                credentialIDs: [CredentialID]? = nil, signCount: UInt32? = nil, regression: SignCountRegression? = nil,
                revokedBy: String? = nil, answer: OfferAnswer? = nil, service: String? = nil) {
        self.kind = kind
        self.user = user.rawValue
        self.time = time
        self.host = host
        self.credential = credential
        self.credentialIDs = credentialIDs
        self.signCount = signCount
        self.regression = regression
        self.revokedBy = revokedBy
        self.answer = answer
        self.service = service
    }

    /// The change, made to `record` as the files registry makes it. Idempotent for every kind
    /// but `offer` (each offer is its own entry in the log).
    public func apply(to record: inout UserRecord) {
        let ids = credentialIDs ?? []
        switch kind {
        case .register:
            if let credential { record.add(credential) }
            for old in ids { record.revoke(id: old, at: time, by: "replaced on \(host)") }
        case .login:
            if let id = ids.first, let signCount { record.recordUse(id: id, signCount: signCount, at: time, host: host) }
        case .regression:
            if let id = ids.first, let regression { record.modify(id: id) { $0.signCountRegression = regression } }
        case .revoke:
            for id in ids { record.revoke(id: id, at: time, by: revokedBy ?? host) }
        case .offer:
            guard let answer else { return }
            var log = record.offers ?? OfferLog()
            log.record(answer: answer, service: service ?? "", hostName: host, at: time)
            record.offers = log
        }
    }
}
