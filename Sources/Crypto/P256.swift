import CLibcrypto

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes).
private let p256SPKIPrefix: [UInt8] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
    0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
]

/// A P-256 public key, always a validated point on the curve.
public final class P256PublicKey: Equatable, @unchecked Sendable {
    let pkey: OpaquePointer
    /// `0x04 ‖ x ‖ y`.
    public let uncompressedPoint: [UInt8]

    public var x: [UInt8] { Array(uncompressedPoint[1..<33]) }
    public var y: [UInt8] { Array(uncompressedPoint[33..<65]) }

    public convenience init(x: [UInt8], y: [UInt8]) throws(CryptoError) {
        guard x.count == 32, y.count == 32 else {
            throw CryptoError("P-256 public key", reason: "coordinates must be 32 bytes each (got \(x.count) and \(y.count))")
        }
        try self.init(uncompressedPoint: [0x04] + x + y)
    }

    public convenience init(uncompressedPoint point: [UInt8]) throws(CryptoError) {
        guard point.count == 65, point[0] == 0x04 else {
            throw CryptoError("P-256 public key", reason: "expected a 65-byte uncompressed point")
        }
        try self.init(spki: p256SPKIPrefix + point)
    }

    /// From a DER SubjectPublicKeyInfo; refuses keys that are not P-256.
    public init(spki der: [UInt8]) throws(CryptoError) {
        guard der.count == p256SPKIPrefix.count + 65, Array(der.prefix(p256SPKIPrefix.count)) == p256SPKIPrefix else {
            throw CryptoError("P-256 public key", reason: "not an uncompressed P-256 SubjectPublicKeyInfo")
        }
        // The point itself, imported as a P-256 key (EVP_PKEY_fromdata): the prefix is checked
        // above, so there is nothing for d2i_PUBKEY's decoder framework to find out, which on
        // a process's first key cost about 1.9 M instructions and 24 kB of heap more.
        var point = Array(der.suffix(65))
        var key: OpaquePointer? = nil
        let imported: Bool = point.withUnsafeMutableBytes { p in
            guard let ctx = pam_passkey_EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return false }
            defer { pam_passkey_EVP_PKEY_CTX_free(ctx) }
            var params: [OSSL_PARAM] = [
                pam_passkey_OSSL_PARAM_construct_utf8_string(cstr("group"), cstr("P-256"), 0),
                pam_passkey_OSSL_PARAM_construct_octet_string(cstr("pub"), p.baseAddress, p.count),
                pam_passkey_OSSL_PARAM_construct_end(),
            ]
            return pam_passkey_EVP_PKEY_fromdata_init(ctx) == 1
                && pam_passkey_EVP_PKEY_fromdata(ctx, &key, pam_passkey_EVP_PKEY_PUBLIC_KEY(), &params) == 1
        }
        guard imported, let key else {
            if let key { pam_passkey_EVP_PKEY_free(key) }
            throw CryptoError.openssl("P-256 public key: decode point")
        }
        // The import decodes the point with EC_POINT_oct2point, which refuses a point that is
        // not on the curve; P-256 has cofactor 1, so that is also a point of the right order.
        // (An extra EVP_PKEY_public_check doubled the cost of every assertion verification.)
        self.pkey = key
        self.uncompressedPoint = Array(der.suffix(65))
    }

    /// Takes ownership of `pkey`.
    init(taking key: OpaquePointer) throws(CryptoError) {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = pam_passkey_i2d_PUBKEY(key, &out)
        defer { if let out { pam_passkey_CRYPTO_free(out, #fileID, #line) } }
        guard len > 0, let out else {
            pam_passkey_EVP_PKEY_free(key)
            throw CryptoError.openssl("P-256 public key: encode")
        }
        let der = Array(UnsafeBufferPointer(start: out, count: Int(len)))
        guard der.count == p256SPKIPrefix.count + 65, Array(der.prefix(p256SPKIPrefix.count)) == p256SPKIPrefix else {
            pam_passkey_EVP_PKEY_free(key)
            throw CryptoError("P-256 public key", reason: "key is not an uncompressed P-256 key")
        }
        self.pkey = key
        self.uncompressedPoint = Array(der.suffix(65))
    }

    deinit { pam_passkey_EVP_PKEY_free(pkey) }

    public var spkiDER: [UInt8] { p256SPKIPrefix + uncompressedPoint }

    public var pemRepresentation: String {
        let der = spkiDER
        var b64 = [UInt8](repeating: 0, count: (der.count + 2) / 3 * 4 + 1)
        let n = pam_passkey_EVP_EncodeBlock(&b64, der, Int32(der.count))
        let text = String(decoding: b64.prefix(Int(n)), as: UTF8.self)
        var lines: [Substring] = []
        var rest = Substring(text)
        while !rest.isEmpty { lines.append(rest.prefix(64)); rest = rest.dropFirst(64) }
        return "-----BEGIN PUBLIC KEY-----\n" + lines.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n"
    }

    /// ECDSA-SHA-256 verification of `message` (the hash is computed here).
    public func isValidSignature(_ signature: ECDSASignature, for message: [UInt8]) -> Bool {
        guard let md = pam_passkey_EVP_MD_CTX_new() else { return false }
        defer { pam_passkey_EVP_MD_CTX_free(md) }
        guard pam_passkey_EVP_DigestVerifyInit(md, nil, pam_passkey_EVP_sha256(), nil, pkey) == 1 else { return false }
        let rc = signature.derRepresentation.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                pam_passkey_EVP_DigestVerify(md, sig.baseAddress, sig.count, msg.baseAddress, msg.count)
            }
        }
        pam_passkey_ERR_clear_error()
        return rc == 1
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
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = pam_passkey_i2d_PUBKEY(key, &out)
        defer { if let out { pam_passkey_CRYPTO_free(out, #fileID, #line) } }
        guard len > 0, let out else { throw CryptoError.openssl("P-256 private key: public half") }
        return try P256PublicKey(spki: Array(UnsafeBufferPointer(start: out, count: Int(len))))
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
