import CLibcrypto

/// AES-256-GCM with a 96-bit nonce and a 128-bit tag appended to the ciphertext.
public enum AESGCM {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// Returns `ciphertext ‖ tag`.
    public static func seal(_ plaintext: SecretBytes, key: SecretBytes, nonce: [UInt8], authenticating aad: [UInt8]) throws(CryptoError) -> [UInt8] {
        try check(key: key, nonce: nonce)
        guard let ctx = pam_passkey_EVP_CIPHER_CTX_new() else { throw CryptoError.openssl("AES-GCM seal") }
        defer { pam_passkey_EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var len: Int32 = 0
        var total = 0
        let ok: Bool = key.withUnsafeBytes { k in
            guard pam_passkey_EVP_EncryptInit_ex(ctx, pam_passkey_EVP_aes_256_gcm(), nil, nil, nil) == 1,
                  pam_passkey_EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceByteCount), nil) == 1,
                  pam_passkey_EVP_EncryptInit_ex(ctx, nil, nil, k.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce) == 1
            else { return false }
            if !aad.isEmpty, pam_passkey_EVP_EncryptUpdate(ctx, nil, &len, aad, Int32(aad.count)) != 1 { return false }
            let updated: Bool = plaintext.withUnsafeBytes { p in
                out.withUnsafeMutableBufferPointer { o in
                    p.isEmpty || pam_passkey_EVP_EncryptUpdate(ctx, o.baseAddress, &len, p.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(p.count)) == 1
                }
            }
            guard updated else { return false }
            total = p_count(plaintext, len)
            return out.withUnsafeMutableBufferPointer { o in
                pam_passkey_EVP_EncryptFinal_ex(ctx, o.baseAddress! + total, &len) == 1
                    && pam_passkey_EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), o.baseAddress! + plaintext.count) == 1
            }
        }
        guard ok else { throw CryptoError.openssl("AES-GCM seal") }
        return out
    }

    /// Opens `ciphertext ‖ tag`; a wrong key, nonce, AAD or any changed byte fails.
    public static func open(_ sealed: [UInt8], key: SecretBytes, nonce: [UInt8], authenticating aad: [UInt8]) throws(CryptoError) -> SecretBytes {
        try check(key: key, nonce: nonce)
        guard sealed.count >= tagByteCount else { throw CryptoError("AES-GCM open", reason: "sealed box shorter than its tag") }
        let body = sealed.count - tagByteCount
        guard let ctx = pam_passkey_EVP_CIPHER_CTX_new() else { throw CryptoError.openssl("AES-GCM open") }
        defer { pam_passkey_EVP_CIPHER_CTX_free(ctx) }
        let plain = SecretBytes(count: body)
        var tag = Array(sealed.suffix(tagByteCount))
        var len: Int32 = 0
        let ok: Bool = key.withUnsafeBytes { k in
            guard pam_passkey_EVP_DecryptInit_ex(ctx, pam_passkey_EVP_aes_256_gcm(), nil, nil, nil) == 1,
                  pam_passkey_EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceByteCount), nil) == 1,
                  pam_passkey_EVP_DecryptInit_ex(ctx, nil, nil, k.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce) == 1
            else { return false }
            if !aad.isEmpty, pam_passkey_EVP_DecryptUpdate(ctx, nil, &len, aad, Int32(aad.count)) != 1 { return false }
            return plain.withUnsafeMutableBytes { p in
                var scratch = [UInt8](repeating: 0, count: 16)
                let dst = p.isEmpty ? nil : p.baseAddress!.assumingMemoryBound(to: UInt8.self)
                if body > 0 {
                    guard sealed.withUnsafeBufferPointer({ s in pam_passkey_EVP_DecryptUpdate(ctx, dst, &len, s.baseAddress, Int32(body)) }) == 1 else { return false }
                }
                guard pam_passkey_EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), &tag) == 1 else { return false }
                return scratch.withUnsafeMutableBufferPointer { s in
                    pam_passkey_EVP_DecryptFinal_ex(ctx, (dst.map { $0 + Int(len) }) ?? s.baseAddress, &len) == 1
                }
            }
        }
        pam_passkey_ERR_clear_error()
        guard ok else { throw CryptoError("AES-GCM open", reason: "authentication failed") }
        return plain
    }

    private static func check(key: SecretBytes, nonce: [UInt8]) throws(CryptoError) {
        guard key.count == keyByteCount else { throw CryptoError("AES-GCM", reason: "key must be 32 bytes") }
        guard nonce.count == nonceByteCount else { throw CryptoError("AES-GCM", reason: "nonce must be 12 bytes") }
    }

    private static func p_count(_ p: SecretBytes, _ len: Int32) -> Int { p.isEmpty ? 0 : Int(len) }
}
