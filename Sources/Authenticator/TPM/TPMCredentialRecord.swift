import Storage
import WebAuthn
import Identifiers

/// A TPM credential at rest. Nothing here is secret: the private area is encrypted by the
/// TPM and loads into this TPM only, and using it needs the PIN. The counters must survive the
/// helper being killed, like the software backend's.
public struct TPMCredential: KeyringEntry {
    public static let currentVersion = 1

    public var version: Int
    public var credentialID: CredentialID
    public var rpID: String
    public var user: String
    public var userHandle: String        // base64url
    public var created: Int64
    /// The primary key the blobs were made under (`TPMStoragePrimary.name`).
    public var parent: String
    /// Salt of the authValue derivation (base64url, 32 bytes).
    public var authSalt: String
    /// TPM2B_PUBLIC and TPM2B_PRIVATE in the TPM's wire format (base64url).
    public var publicArea: String
    public var privateArea: String
    public var signCount: UInt32
    /// Wrong PINs in a row; written and synced *before* each attempt.
    public var failedAttempts: Int
    public var lockedAt: Int64?

    var blobs: TPMKeyBlobs? {
        guard let pub = Base64URL.decode(publicArea), let priv = Base64URL.decode(privateArea) else { return nil }
        return TPMKeyBlobs(publicArea: pub, privateArea: priv)
    }
}
