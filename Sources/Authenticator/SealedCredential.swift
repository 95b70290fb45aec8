import Crypto
import HelperProtocol
import WebAuthn
import Identifiers

/// A software credential at rest: the private key sealed with AES-256-GCM under a key that
/// needs both the PIN (through scrypt) and this host's secret, plus the counters that must
/// survive the helper being killed. No field is secret on its own.
public struct SealedCredential: KeyringEntry {
    public static let currentVersion = 1

    public var version: Int
    public var credentialID: CredentialID
    public var rpID: String
    public var user: String
    public var userHandle: String        // base64url
    public var created: Int64
    public var kdf: KDFParameters
    public var nonce: String             // base64url, 12 bytes
    public var sealedKey: String         // base64url, ciphertext ‖ tag
    public var signCount: UInt32
    /// Wrong PINs in a row; written and synced *before* each check.
    public var failedAttempts: Int
    public var lockedAt: Int64?

    public struct KDFParameters: Codable, Equatable, Sendable {
        public var algorithm: String     // "scrypt"
        public var log2N: Int
        public var r: Int
        public var p: Int
        public var salt: String          // base64url
    }
}

/// The wrapping scheme, kept in one place: wrapKey = HMAC-SHA-256(hostSecret, label ‖ scrypt(PIN)).
/// The host secret means a copied key file is useless without the rest of this host's state;
/// scrypt makes each PIN guess cost memory and time when both are stolen.
enum KeyWrap {
    static let label = Array("pam_passkey software key wrap v1".utf8)

    static func wrappingKey(pin: SecretBytes, hostSecret: SecretBytes, kdf: SealedCredential.KDFParameters) throws(HelperFailure) -> SecretBytes {
        guard kdf.algorithm == "scrypt", let salt = Base64URL.decode(kdf.salt) else {
            throw HelperFailure(.unavailable, "credential uses an unknown key derivation \"\(kdf.algorithm)\"")
        }
        do {
            let pinKey = try Scrypt.deriveKey(password: pin, salt: salt, cost: .init(log2N: kdf.log2N, r: kdf.r, p: kdf.p), byteCount: 32)
            var material = label + pinKey.copyBytes()
            defer { wipe(&material) }
            var secret = hostSecret.copyBytes()
            defer { wipe(&secret) }
            var mac = HMACSHA256.authenticate(key: secret, data: material)
            defer { wipe(&mac) }
            return SecretBytes(mac)
        } catch {
            throw HelperFailure(.internalError, "key derivation failed: \(error)")
        }
    }

    /// Binds the sealed key to its credential, relying party and user.
    static func associatedData(credentialID: String, rpID: String, user: String) -> [UInt8] {
        Array("pam_passkey v1\0\(credentialID)\0\(rpID)\0\(user)".utf8)
    }
}
