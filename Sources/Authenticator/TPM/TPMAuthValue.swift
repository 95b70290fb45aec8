import Crypto

/// The authValue of a credential key: SHA-256(label ‖ 0 ‖ salt ‖ PIN), 32 bytes — the size
/// of the name algorithm's digest, the most a TPM accepts. The TPM itself counts and limits
/// guesses (dictionary-attack protection), and the key blob is useless off this TPM, so no
/// slow KDF is needed; the per-credential salt keeps equal PINs from giving equal authValues.
///
/// The TPM drops trailing zero bytes of an authValue when it stores and checks it; so does
/// this derivation, so that the HMAC computed on our side uses the same bytes whatever the
/// libtss2 version does about it (releases have differed).
enum TPMAuthValue {
    static let label = Array("pam_passkey tpm authValue v1".utf8)
    static let saltByteCount = 32

    static func derive(pin: SecretBytes, salt: [UInt8]) -> SecretBytes {
        var material = label + [0] + salt + pin.copyBytes()
        defer { wipe(&material) }
        var digest = SHA256.hash(material)
        defer { wipe(&digest) }
        let kept = digest.lastIndex { $0 != 0 }.map { $0 + 1 } ?? 0
        return SecretBytes(digest[..<kept])
    }
}
