import Crypto
import Identifiers

/// A registration that passed every check: what the relying party stores.
public struct VerifiedRegistration: Hashable, Sendable {
    public let credentialID: CredentialID
    public let credentialPublicKey: COSEKey
    public let signCount: UInt32
    public let aaguid: [UInt8]
    /// Including BE and BS, which say whether the credential can leave this authenticator.
    public let flags: AuthenticatorFlags
    public let attestation: AttestationKind
    public let authenticatorData: AuthenticatorData
}

/// Registration verification (WebAuthn §7.1) for ES256 credentials with "none" or "packed"
/// attestation.
public enum RegistrationVerifier {
    public static func verify(attestationObject: [UInt8], clientDataJSON: [UInt8],
                              expecting expected: RegistrationExpectations) throws(WebAuthnError) -> VerifiedRegistration {
        _ = try CeremonyChecks.clientData(clientDataJSON, type: CollectedClientData.createType,
                                          challenge: expected.challenge, origin: expected.origin)
        let clientDataHash = SHA256.hash(clientDataJSON)

        let object: AttestationObject
        do { object = try AttestationObject(bytes: attestationObject) } catch {
            // A credential of another algorithm is a policy refusal, not a malformed object.
            if case .authenticatorData(.credentialPublicKey(.unsupportedAlgorithm(let alg))) = error {
                throw .unsupportedCredentialAlgorithm(alg)
            }
            throw .malformedAttestationObject(error)
        }
        let authData = object.authData
        try CeremonyChecks.authenticatorData(authData, rpID: expected.rpID,
                                             requireUserVerification: expected.requireUserVerification)
        guard let credential = authData.attestedCredentialData else { throw .attestedCredentialDataMissing }
        let publicKey: P256PublicKey
        do { publicKey = try credential.credentialPublicKey.publicKey() } catch { throw .invalidCredentialPublicKey(error) }

        let attestation = try AttestationStatementVerifier.verify(
            object, clientDataHash: clientDataHash, credentialKey: credential.credentialPublicKey, credentialPublicKey: publicKey)

        return VerifiedRegistration(credentialID: credential.credentialID, credentialPublicKey: credential.credentialPublicKey,
                                    signCount: authData.signCount, aaguid: credential.aaguid, flags: authData.flags,
                                    attestation: attestation, authenticatorData: authData)
    }
}
