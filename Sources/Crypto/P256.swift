import CLibcrypto

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes).
private let p256SPKIPrefix: [UInt8] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
    0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
]

/// A P-256 public key, always a validated point on the curve. Checked and used in Swift
/// (P256Arithmetic): a passkey login verifies its assertion without libcrypto in the PAM
/// application.
public final class P256PublicKey: Equatable, Sendable {
    /// `0x04 ‖ x ‖ y`.
    public let uncompressedPoint: [UInt8]
    let affineX: P256Arithmetic.Limbs
    let affineY: P256Arithmetic.Limbs

    public var x: [UInt8] { Array(uncompressedPoint[1..<33]) }
    public var y: [UInt8] { Array(uncompressedPoint[33..<65]) }

    public convenience init(x: [UInt8], y: [UInt8]) throws(CryptoError) {
        guard x.count == 32, y.count == 32 else {
            throw CryptoError("P-256 public key", reason: "coordinates must be 32 bytes each (got \(x.count) and \(y.count))")
        }
        try self.init(uncompressedPoint: [0x04] + x + y)
    }

    /// The point's 65 bytes; refuses coordinates that are not below p or not on the curve.
    /// P-256 has cofactor 1, so a point on the curve is a point of the group of order n (and
    /// the point at infinity has no uncompressed form).
    public init(uncompressedPoint point: [UInt8]) throws(CryptoError) {
        guard point.count == 65, point[0] == 0x04 else {
            throw CryptoError("P-256 public key", reason: "expected a 65-byte uncompressed point")
        }
        let x = P256Arithmetic.Limbs(bigEndian: point[1..<33]), y = P256Arithmetic.Limbs(bigEndian: point[33..<65])
        guard P256Arithmetic.isOnCurve(x: x, y: y) else {
            throw CryptoError("P-256 public key", reason: "the point is not on the P-256 curve")
        }
        self.uncompressedPoint = point
        self.affineX = x
        self.affineY = y
    }

    /// From a DER SubjectPublicKeyInfo; refuses keys that are not P-256.
    public convenience init(spki der: [UInt8]) throws(CryptoError) {
        guard der.count == p256SPKIPrefix.count + 65, Array(der.prefix(p256SPKIPrefix.count)) == p256SPKIPrefix else {
            throw CryptoError("P-256 public key", reason: "not an uncompressed P-256 SubjectPublicKeyInfo")
        }
        try self.init(uncompressedPoint: Array(der.suffix(65)))
    }

    /// The public half of an OpenSSL key (a certificate's, a private key's); does not take
    /// ownership of `key`.
    convenience init(publicHalfOf key: OpaquePointer) throws(CryptoError) {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = pam_passkey_i2d_PUBKEY(key, &out)
        defer { if let out { pam_passkey_CRYPTO_free(out, #fileID, #line) } }
        guard len > 0, let out else { throw CryptoError.openssl("P-256 public key: encode") }
        let der = Array(UnsafeBufferPointer(start: out, count: Int(len)))
        guard der.count == p256SPKIPrefix.count + 65, Array(der.prefix(p256SPKIPrefix.count)) == p256SPKIPrefix else {
            throw CryptoError("P-256 public key", reason: "key is not an uncompressed P-256 key")
        }
        try self.init(uncompressedPoint: Array(der.suffix(65)))
    }

    public var spkiDER: [UInt8] { p256SPKIPrefix + uncompressedPoint }

    /// ECDSA-SHA-256 verification of `message` (the hash is computed here), in Swift.
    public func isValidSignature(_ signature: ECDSASignature, for message: [UInt8]) -> Bool {
        P256Arithmetic.verify(digest: PortableSHA256.hash(message), r: signature.r, s: signature.s,
                              keyX: affineX, keyY: affineY)
    }

    public static func == (a: P256PublicKey, b: P256PublicKey) -> Bool { a.uncompressedPoint == b.uncompressedPoint }
}

/// A P-256 private key. Its serialised form is a `SecretBytes`; it is never printed.
public final class P256PrivateKey: CustomStringConvertible, @unchecked Sendable {
    let pkey: OpaquePointer
    public let publicKey: P256PublicKey

    /// Generates a fresh key.
    public init() throws(CryptoError) {
        guard let ctx = pam_passkey_EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CryptoError.openssl("P-256 keygen") }
        defer { pam_passkey_EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer? = nil
        guard pam_passkey_EVP_PKEY_keygen_init(ctx) == 1,
              pam_passkey_EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1,
              pam_passkey_EVP_PKEY_generate(ctx, &key) == 1, let key
        else { throw CryptoError.openssl("P-256 keygen") }
        self.pkey = key
        self.publicKey = try Self.publicHalf(of: key)
    }

    /// From the DER form produced by `derRepresentation`.
    public init(derRepresentation der: SecretBytes) throws(CryptoError) {
        let key: OpaquePointer? = der.withUnsafeBytes { raw in
            var p: UnsafePointer<UInt8>? = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return pam_passkey_d2i_AutoPrivateKey(nil, &p, raw.count)
        }
        guard let key else { throw CryptoError.openssl("P-256 private key: decode") }
        self.pkey = key
        self.publicKey = try Self.publicHalf(of: key)
    }

    private static func publicHalf(of key: OpaquePointer) throws(CryptoError) -> P256PublicKey {
        do { return try P256PublicKey(publicHalfOf: key) } catch {
            pam_passkey_EVP_PKEY_free(key)
            throw error
        }
    }

    deinit { pam_passkey_EVP_PKEY_free(pkey) }

    /// The key in DER (SEC 1 ECPrivateKey), for sealing. Wiped when released.
    public var derRepresentation: SecretBytes {
        get throws(CryptoError) {
            var out: UnsafeMutablePointer<UInt8>? = nil
            let len = pam_passkey_i2d_PrivateKey(pkey, &out)
            guard len > 0, let out else { throw CryptoError.openssl("P-256 private key: encode") }
            let secret = SecretBytes(UnsafeBufferPointer(start: out, count: Int(len)))
            pam_passkey_CRYPTO_clear_free(out, Int(len), #fileID, #line)
            return secret
        }
    }

    /// ECDSA-SHA-256 over `message`, DER-encoded.
    public func signature(for message: [UInt8]) throws(CryptoError) -> ECDSASignature {
        guard let md = pam_passkey_EVP_MD_CTX_new() else { throw CryptoError.openssl("ECDSA sign") }
        defer { pam_passkey_EVP_MD_CTX_free(md) }
        guard pam_passkey_EVP_DigestSignInit(md, nil, pam_passkey_EVP_sha256(), nil, pkey) == 1 else { throw CryptoError.openssl("ECDSA sign") }
        var sig = [UInt8](repeating: 0, count: 80)
        var len = sig.count
        let rc = message.withUnsafeBufferPointer { msg in
            pam_passkey_EVP_DigestSign(md, &sig, &len, msg.baseAddress, msg.count)
        }
        guard rc == 1 else { throw CryptoError.openssl("ECDSA sign") }
        do {
            return try ECDSASignature(derRepresentation: Array(sig.prefix(len)))
        } catch {
            throw CryptoError("ECDSA sign", reason: "libcrypto produced a signature that fails our own checks: \(error)")
        }
    }

    public var description: String { "P256PrivateKey(redacted)" }
}

