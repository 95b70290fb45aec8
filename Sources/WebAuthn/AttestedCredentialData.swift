import Identifiers

/// What a registration adds to authenticatorData: which authenticator model (AAGUID), the
/// credential's id, and its public key.
public struct AttestedCredentialData: Hashable, Sendable {
    /// Credential ids longer than this are refused (WebAuthn §7.1, registration step 23).
    public static let maximumCredentialIDLength = CredentialID.maxBytes

    public let aaguid: [UInt8]
    public let credentialID: CredentialID
    public let credentialPublicKey: COSEKey

    public init(aaguid: [UInt8], credentialID: CredentialID, credentialPublicKey: COSEKey) throws(AuthenticatorDataError) {
        guard aaguid.count == 16 else { throw .aaguidLength(aaguid.count) }
        guard credentialID.bytes.count <= Self.maximumCredentialIDLength else { throw .credentialIDTooLong(credentialID.bytes.count) }
        self.aaguid = aaguid
        self.credentialID = credentialID
        self.credentialPublicKey = credentialPublicKey
    }

    /// `aaguid ‖ length (2 bytes, big-endian) ‖ credentialID ‖ COSE_Key`.
    var encoded: [UInt8] {
        let id = credentialID.bytes
        return aaguid + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id + credentialPublicKey.encoded
    }
}
