import Crypto

/// Why a registration or an assertion was refused: one case per check, so logs and tests
/// can tell a wrong rp_id from a forged signature from a cloned authenticator.
public enum WebAuthnError: Error, Equatable, Sendable, CustomStringConvertible {
    // clientDataJSON
    case malformedClientData(ClientDataError)
    case clientDataTypeMismatch(expected: String, received: String)
    case challengeMismatch
    case originMismatch(expected: String, received: String)
    case crossOrigin(topOrigin: String?)

    // authenticatorData and the attestation object
    case malformedAuthenticatorData(AuthenticatorDataError)
    case malformedAttestationObject(AttestationObjectError)
    case rpIDHashMismatch(rpID: String)
    case userNotPresent
    case userNotVerified
    case attestedCredentialDataMissing
    case unsupportedCredentialAlgorithm(Int64)
    case invalidCredentialPublicKey(COSEKeyError)

    // attestation statement
    case unsupportedAttestationFormat(String)
    case malformedAttestationStatement(format: String, reason: String)
    case unsupportedAttestationAlgorithm(Int64)
    case attestationAlgorithmMismatch(statement: Int64, credential: Int64)
    case malformedAttestationCertificate(index: Int, reason: String)
    case attestationCertificateRequirement(String)
    case malformedAttestationSignature(ECDSASignature.Problem)
    case badAttestationSignature

    // assertion signature and counter
    case malformedSignature(ECDSASignature.Problem)
    case badSignature
    /// The counter did not grow: the credential's private key may exist in two places.
    case signCountNotIncreased(stored: UInt32, received: UInt32)

    public var description: String {
        switch self {
        case .malformedClientData(let e):
            return e.description
        case .clientDataTypeMismatch(let expected, let received):
            return "clientDataJSON type is \"\(received)\", expected \"\(expected)\""
        case .challengeMismatch:
            return "clientDataJSON challenge does not match the challenge this relying party issued"
        case .originMismatch(let expected, let received):
            return "clientDataJSON origin is \"\(received)\", expected \"\(expected)\""
        case .crossOrigin(let top):
            return "clientDataJSON says the request came from a cross-origin frame"
                + (top.map { " (top origin \"\($0)\")" } ?? "") + ", which this relying party does not accept"
        case .malformedAuthenticatorData(let e):
            return e.description
        case .malformedAttestationObject(let e):
            return e.description
        case .rpIDHashMismatch(let rpID):
            return "rpIdHash does not match rp_id \"\(rpID)\""
        case .userNotPresent:
            return "authenticatorData does not have the user-present (UP) flag set"
        case .userNotVerified:
            return "user verification is required but authenticatorData does not have the user-verified (UV) flag set"
        case .attestedCredentialDataMissing:
            return "registration authenticatorData carries no attested credential data (AT flag not set)"
        case .unsupportedCredentialAlgorithm(let alg):
            return COSEKeyError.unsupportedAlgorithm(alg).description
        case .invalidCredentialPublicKey(let e):
            return e.description
        case .unsupportedAttestationFormat(let fmt):
            return "attestation format \"\(fmt)\" is not supported; only \"none\" and \"packed\" are"
        case .malformedAttestationStatement(let fmt, let reason):
            return "\"\(fmt)\" attestation statement \(reason)"
        case .unsupportedAttestationAlgorithm(let alg):
            return "attestation statement algorithm \(alg) is not supported; only ES256 (-7) is"
        case .attestationAlgorithmMismatch(let statement, let credential):
            return "self attestation algorithm \(statement) differs from the credential key's algorithm \(credential)"
        case .malformedAttestationCertificate(let index, let reason):
            return "attestation certificate x5c[\(index)] cannot be used: \(reason)"
        case .attestationCertificateRequirement(let reason):
            return "attestation certificate does not meet the packed format's requirements: \(reason)"
        case .malformedAttestationSignature(let problem):
            return "attestation \(problem)"
        case .badAttestationSignature:
            return "attestation signature does not verify over authenticatorData and the clientDataJSON hash"
        case .malformedSignature(let problem):
            return "assertion \(problem)"
        case .badSignature:
            return "assertion signature does not verify with the credential's public key"
        case .signCountNotIncreased(let stored, let received):
            return "signature counter \(received) is not greater than the stored \(stored): "
                + "the credential may have been cloned"
        }
    }
}
