import Crypto

/// The checks both ceremonies share, in the specification's order.
enum CeremonyChecks {
    /// type, challenge (constant time), origin, and no cross-origin use: our relying party is
    /// never embedded in someone else's page, so a response that claims it was is refused.
    static func clientData(_ json: [UInt8], type: String, challenge: [UInt8], origin: String) throws(WebAuthnError) -> CollectedClientData {
        let clientData: CollectedClientData
        do { clientData = try CollectedClientData(json: json) } catch { throw .malformedClientData(error) }
        guard clientData.type == type else { throw .clientDataTypeMismatch(expected: type, received: clientData.type) }
        guard constantTimeEquals(clientData.challenge, challenge) else { throw .challengeMismatch }
        guard clientData.origin == origin else { throw .originMismatch(expected: origin, received: clientData.origin) }
        guard clientData.crossOrigin != true else { throw .crossOrigin(topOrigin: clientData.topOrigin) }
        return clientData
    }

    /// rpIdHash, then user presence, then user verification when the policy demands it.
    static func authenticatorData(_ authData: AuthenticatorData, rpID: String, requireUserVerification: Bool) throws(WebAuthnError) {
        guard constantTimeEquals(authData.rpIDHash, SHA256.hash(Array(rpID.utf8))) else { throw .rpIDHashMismatch(rpID: rpID) }
        guard authData.flags.contains(.userPresent) else { throw .userNotPresent }
        if requireUserVerification, !authData.flags.contains(.userVerified) { throw .userNotVerified }
    }
}
