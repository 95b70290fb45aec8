/// What a relying party expects of one ceremony's response. Registration and assertion use
/// the same shape; the type names keep a caller from mixing up the two challenges.
public struct RegistrationExpectations: Sendable {
    public var challenge: [UInt8]
    public var origin: String
    public var rpID: String
    public var requireUserVerification: Bool

    public init(challenge: [UInt8], origin: String, rpID: String, requireUserVerification: Bool) {
        self.challenge = challenge
        self.origin = origin
        self.rpID = rpID
        self.requireUserVerification = requireUserVerification
    }
}

public struct AssertionExpectations: Sendable {
    public var challenge: [UInt8]
    public var origin: String
    public var rpID: String
    public var requireUserVerification: Bool

    public init(challenge: [UInt8], origin: String, rpID: String, requireUserVerification: Bool) {
        self.challenge = challenge
        self.origin = origin
        self.rpID = rpID
        self.requireUserVerification = requireUserVerification
    }
}
