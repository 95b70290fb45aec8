import CLibcrypto

/// scrypt (RFC 7914) through OpenSSL's EVP_KDF: a memory-hard key derivation for PINs.
public enum Scrypt {
    public struct Cost: Equatable, Sendable, Codable {
        /// log2 of N, the CPU/memory cost.
        public var log2N: Int
        public var r: Int
        public var p: Int

        public init(log2N: Int, r: Int = 8, p: Int = 1) {
            self.log2N = log2N
            self.r = r
            self.p = p
        }

        /// Memory the derivation needs, in bytes (128 · r · N, plus room for p lanes).
        public var memoryBytes: UInt64 { 128 * UInt64(r) * (UInt64(1) << UInt64(log2N)) + 128 * UInt64(r) * UInt64(p) }
    }

    public static func deriveKey(password: SecretBytes, salt: [UInt8], cost: Cost, byteCount: Int) throws(CryptoError) -> SecretBytes {
        guard (1...30).contains(cost.log2N), (1...32).contains(cost.r), (1...16).contains(cost.p) else {
            throw CryptoError("scrypt", reason: "cost out of range (log2N 1...30, r 1...32, p 1...16)")
        }
        guard let kdf = pam_passkey_EVP_KDF_fetch(nil, "SCRYPT", nil) else { throw CryptoError.openssl("scrypt: fetch") }
        defer { pam_passkey_EVP_KDF_free(kdf) }
        guard let ctx = pam_passkey_EVP_KDF_CTX_new(kdf) else { throw CryptoError.openssl("scrypt: context") }
        defer { pam_passkey_EVP_KDF_CTX_free(ctx) }
        var n = UInt64(1) << UInt64(cost.log2N)
        var r = UInt32(cost.r)
        var p = UInt32(cost.p)
        var maxmem = cost.memoryBytes + 1 << 20
        var salt = salt
        let out = SecretBytes(count: byteCount)
        let ok: Int32 = password.withUnsafeBytes { pw in
            salt.withUnsafeMutableBytes { s in
                out.withUnsafeMutableBytes { o in
                    var params: [OSSL_PARAM] = [
                        pam_passkey_OSSL_PARAM_construct_octet_string(cstr("pass"), UnsafeMutableRawPointer(mutating: pw.baseAddress ?? UnsafeRawPointer(s.baseAddress!)), pw.count),
                        pam_passkey_OSSL_PARAM_construct_octet_string(cstr("salt"), s.baseAddress, s.count),
                        pam_passkey_OSSL_PARAM_construct_uint64(cstr("n"), &n),
                        pam_passkey_OSSL_PARAM_construct_uint32(cstr("r"), &r),
                        pam_passkey_OSSL_PARAM_construct_uint32(cstr("p"), &p),
                        pam_passkey_OSSL_PARAM_construct_uint64(cstr("maxmem_bytes"), &maxmem),
                        pam_passkey_OSSL_PARAM_construct_end(),
                    ]
                    return pam_passkey_EVP_KDF_derive(ctx, o.baseAddress?.assumingMemoryBound(to: UInt8.self), o.count, &params)
                }
            }
        }
        guard ok == 1 else { throw CryptoError.openssl("scrypt: derive") }
        return out
    }
}

/// OSSL_PARAM keeps the key pointer: it must outlive the call, so only static strings.
func cstr(_ s: StaticString) -> UnsafeMutablePointer<CChar> {
    UnsafeMutableRawPointer(mutating: s.utf8Start).assumingMemoryBound(to: CChar.self)
}
