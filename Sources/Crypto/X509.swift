import CLibcrypto

/// Just enough of an X.509 certificate for `packed` attestation: parse it, take its
/// public key, read its version and basic constraints. Chains are not validated here.
public final class X509Certificate: @unchecked Sendable {
    let cert: OpaquePointer
    public let derRepresentation: [UInt8]

    public init(derRepresentation der: [UInt8]) throws(CryptoError) {
        let c: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            let c = pam_passkey_d2i_X509(nil, &p, buf.count)
            // Refuse trailing bytes after the certificate.
            if c != nil, let p, p != buf.baseAddress! + buf.count { pam_passkey_X509_free(c); return nil }
            return c
        }
        guard let c else { throw CryptoError.openssl("X.509 certificate: decode") }
        self.cert = c
        self.derRepresentation = der
    }

    deinit { pam_passkey_X509_free(cert) }

    /// The subject public key, if it is a P-256 key.
    public func p256PublicKey() throws(CryptoError) -> P256PublicKey {
        guard let key = pam_passkey_X509_get0_pubkey(cert) else { throw CryptoError.openssl("X.509 certificate: public key") }
        return try P256PublicKey(publicHalfOf: key)
    }

    /// X.509 version as written in the certificate (3 for v3).
    public var version: Int { Int(pam_passkey_X509_get_version(cert)) + 1 }

    /// Whether the basic-constraints extension marks it as a CA.
    public var isCA: Bool { pam_passkey_X509_check_ca(cert) != 0 }
}
