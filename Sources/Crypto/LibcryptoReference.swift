import CLibcrypto

/// libcrypto's answers for what Sources/Crypto now computes in Swift (SHA-256, ECDSA P-256
/// verification): what the unit tests and the fuzz target `p256_verify` compare the Swift
/// code with. Nothing in a login or an enrollment calls these.
public enum LibcryptoReference {
    public static func sha256(_ data: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 32)
        var outLen: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            pam_passkey_EVP_Digest(input.baseAddress, input.count, &out, &outLen, pam_passkey_EVP_sha256(), nil)
        }
        return ok == 1 && outLen == 32 ? out : nil
    }

    /// ECDSA-SHA-256 verification; false when libcrypto refuses the key or the signature.
    public static func verifyECDSA(uncompressedPoint point: [UInt8], signatureDER: [UInt8], message: [UInt8]) -> Bool {
        var point = point
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
        defer { if let key { pam_passkey_EVP_PKEY_free(key) }; pam_passkey_ERR_clear_error() }
        guard imported, let key, let md = pam_passkey_EVP_MD_CTX_new() else { return false }
        defer { pam_passkey_EVP_MD_CTX_free(md) }
        guard pam_passkey_EVP_DigestVerifyInit(md, nil, pam_passkey_EVP_sha256(), nil, key) == 1 else { return false }
        let rc = signatureDER.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                pam_passkey_EVP_DigestVerify(md, sig.baseAddress, sig.count, msg.baseAddress, msg.count)
            }
        }
        return rc == 1
    }
}
