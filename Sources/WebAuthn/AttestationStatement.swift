import Crypto

/// What an attestation statement proved about where a credential came from.
public enum AttestationKind: Hashable, Sendable {
    /// Format "none": nothing.
    case none
    /// "packed" signed by the credential's own key: possession, not provenance.
    case selfAttestation
    /// "packed" with an x5c chain (DER, leaf first). The signature was verified with the
    /// leaf's key; `verified` says whether the chain was checked against a trusted root —
    /// always false here, since this project keeps no attestation trust store.
    case certificate(chain: [[UInt8]], verified: Bool)
}

/// Verification of the two statement formats this project accepts (WebAuthn §8.2, §8.7).
enum AttestationStatementVerifier {
    static func verify(_ object: AttestationObject, clientDataHash: [UInt8], credentialKey: COSEKey,
                       credentialPublicKey: P256PublicKey) throws(WebAuthnError) -> AttestationKind {
        switch object.fmt {
        case AttestationObject.noneFormat:
            guard object.attStmt.mapValue?.isEmpty == true else {
                throw .malformedAttestationStatement(format: object.fmt, reason: "must be an empty map")
            }
            return .none
        case AttestationObject.packedFormat:
            return try verifyPacked(object, clientDataHash: clientDataHash, credentialKey: credentialKey,
                                    credentialPublicKey: credentialPublicKey)
        default:
            throw .unsupportedAttestationFormat(object.fmt)
        }
    }

    private static func verifyPacked(_ object: AttestationObject, clientDataHash: [UInt8], credentialKey: COSEKey,
                                     credentialPublicKey: P256PublicKey) throws(WebAuthnError) -> AttestationKind {
        let statement = object.attStmt
        func malformed(_ reason: String) -> WebAuthnError { .malformedAttestationStatement(format: object.fmt, reason: reason) }
        guard let algItem = statement["alg"] else { throw malformed("has no \"alg\"") }
        guard let alg = algItem.intValue else { throw malformed("\"alg\" is not an integer") }
        guard let sigItem = statement["sig"] else { throw malformed("has no \"sig\"") }
        guard let sigBytes = sigItem.bytesValue else { throw malformed("\"sig\" is not a byte string") }
        if statement["ecdaaKeyId"] != nil { throw malformed("uses ECDAA, which is not supported") }

        let signedData = signedBytes(authenticatorData: object.authData.rawBytes, clientDataHash: clientDataHash)
        if let x5cItem = statement["x5c"] {
            guard let x5c = x5cItem.arrayValue, !x5c.isEmpty else { throw malformed("\"x5c\" is not a non-empty array") }
            var chain: [[UInt8]] = []
            var certificates: [X509Certificate] = []
            for (index, item) in x5c.enumerated() {
                guard let der = item.bytesValue else {
                    throw .malformedAttestationCertificate(index: index, reason: "not a byte string")
                }
                do { certificates.append(try X509Certificate(derRepresentation: der)) } catch {
                    throw .malformedAttestationCertificate(index: index, reason: error.description)
                }
                chain.append(der)
            }
            let leaf = certificates[0]
            // §8.2.1: the attestation certificate is an X.509 v3 end-entity certificate.
            guard leaf.version == 3 else { throw .attestationCertificateRequirement("version is \(leaf.version), not 3") }
            guard !leaf.isCA else { throw .attestationCertificateRequirement("it is a CA certificate") }
            guard alg == COSEKey.es256 else { throw .unsupportedAttestationAlgorithm(alg) }
            let leafKey: P256PublicKey
            do { leafKey = try leaf.p256PublicKey() } catch {
                throw .malformedAttestationCertificate(index: 0, reason: "its public key is not P-256 (\(error.reason))")
            }
            try checkSignature(sigBytes, key: leafKey, over: signedData)
            return .certificate(chain: chain, verified: false)
        }

        guard alg == credentialKey.algorithm else {
            throw .attestationAlgorithmMismatch(statement: alg, credential: credentialKey.algorithm)
        }
        try checkSignature(sigBytes, key: credentialPublicKey, over: signedData)
        return .selfAttestation
    }

    private static func checkSignature(_ der: [UInt8], key: P256PublicKey, over data: [UInt8]) throws(WebAuthnError) {
        let signature: ECDSASignature
        do { signature = try ECDSASignature(derRepresentation: der) } catch { throw .malformedAttestationSignature(error) }
        guard key.isValidSignature(signature, for: data) else { throw .badAttestationSignature }
    }
}
