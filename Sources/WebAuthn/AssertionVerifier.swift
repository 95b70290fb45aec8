import Crypto

/// An assertion that passed every check. The caller stores `signCount` for next time.
public struct VerifiedAssertion: Hashable, Sendable {
    public let signCount: UInt32
    public let flags: AuthenticatorFlags
}

/// Assertion verification (WebAuthn §7.2) against a stored ES256 credential key.
public enum AssertionVerifier {
    /// Checks, in order: clientData type "webauthn.get", challenge (constant time), origin,
    /// rpIdHash, UP, UV when required, the ECDSA signature over
    /// `authenticatorData ‖ SHA-256(clientDataJSON)`, and last the sign counter — so
    /// `signCountNotIncreased` is only ever reported for a genuine signature, where it means
    /// a possible clone rather than a forgery.
    public static func verify(authenticatorData: [UInt8], clientDataJSON: [UInt8], signature: [UInt8],
                              credentialPublicKey: COSEKey, storedSignCount: UInt32,
                              expecting expected: AssertionExpectations) throws(WebAuthnError) -> VerifiedAssertion {
        _ = try CeremonyChecks.clientData(clientDataJSON, type: CollectedClientData.getType,
                                          challenge: expected.challenge, origin: expected.origin)
        let authData: AuthenticatorData
        do { authData = try AuthenticatorData(bytes: authenticatorData) } catch { throw .malformedAuthenticatorData(error) }
        try CeremonyChecks.authenticatorData(authData, rpID: expected.rpID,
                                             requireUserVerification: expected.requireUserVerification)

        let parsedSignature: ECDSASignature
        do { parsedSignature = try ECDSASignature(derRepresentation: signature) } catch { throw .malformedSignature(error) }
        let key: P256PublicKey
        do { key = try credentialPublicKey.publicKey() } catch { throw .invalidCredentialPublicKey(error) }
        guard key.isValidSignature(parsedSignature, for: signedBytes(authenticatorData: authenticatorData, clientDataHash: SHA256.hash(clientDataJSON))) else {
            throw .badSignature
        }

        // §7.2 step 22: authenticators without a counter always send 0; once either side is
        // non-zero, the counter must grow.
        let received = authData.signCount
        if storedSignCount != 0 || received != 0, received <= storedSignCount {
            throw .signCountNotIncreased(stored: storedSignCount, received: received)
        }
        return VerifiedAssertion(signCount: received, flags: authData.flags)
    }
}

extension AuthenticatorData {
    /// The authenticator's side of an assertion: an ES256 signature over
    /// `authenticatorData ‖ clientDataHash`.
    public func assertionSignature(clientDataHash: [UInt8], key: P256PrivateKey) throws(CryptoError) -> ECDSASignature {
        try key.signature(for: signedBytes(authenticatorData: rawBytes, clientDataHash: clientDataHash))
    }
}
