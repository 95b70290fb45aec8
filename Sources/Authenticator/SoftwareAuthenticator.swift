import Crypto
import HelperProtocol
import WebAuthn
import Identifiers

/// The software host authenticator: a P-256 key per credential, sealed at rest under the PIN
/// and a per-host secret, with a persistent wrong-PIN counter.
public struct SoftwareAuthenticator: HostAuthenticator {
    public struct Settings: Sendable {
        public var pinMinLength: Int
        public var pinMaxAttempts: Int
        public var kdfCost: Scrypt.Cost
        /// Wrong PINs accepted within one request before it gives up (the lock counter is
        /// separate and persistent).
        public var triesPerRequest: Int = 3
        /// Attempts at choosing an acceptable new PIN before giving up.
        public var newPINTries: Int = 3

        public init(pinMinLength: Int, pinMaxAttempts: Int, kdfCost: Scrypt.Cost) {
            self.pinMinLength = pinMinLength
            self.pinMaxAttempts = pinMaxAttempts
            self.kdfCost = kdfCost
        }
    }

    public let store: KeyringStore<SealedCredential>
    public let hostSecret: HostSecret
    public let settings: Settings
    /// Why this backend serves (reported by `health()`), e.g. what `authenticator = auto` found.
    public var selection: String?
    /// Where the counter reset after a right PIN goes: run after the reply is sent.
    public let afterReply: AfterReply
    let now: () -> Int64

    /// Keeps its credentials under `state_dir/authenticator/software`.
    public init(stateDirectory: String, settings: Settings, afterReply: AfterReply, now: @escaping () -> Int64) {
        self.afterReply = afterReply
        self.store = KeyringStore(stateDirectory: stateDirectory, backend: "software")
        self.hostSecret = HostSecret(stateDirectory: stateDirectory)
        self.settings = settings
        self.now = now
    }

    public func health() -> AuthenticatorHealth {
        // The host secret is checked here, before any PIN is asked for: one that others can
        // read is not used. (Keyrings are checked when they are read.)
        let problem = store.problem() ?? hostSecret.problem()
        return AuthenticatorHealth(kind: .software, aaguid: ProjectAAGUID.software,
                                   condition: problem.map(AuthenticatorCondition.broken) ?? .healthy, detail: selection)
    }

    public func credentials(user: UserName, rpID: String) throws(HelperFailure) -> [HeldCredential] {
        try store.credentials(of: user).filter { $0.rpID == rpID }.map(held)
    }

    private func held(_ c: SealedCredential) -> HeldCredential {
        HeldCredential(id: c.id, rpID: c.rpID, created: c.created, locked: isLocked(c),
                       attemptsLeft: c.attemptsLeft(maxAttempts: settings.pinMaxAttempts))
    }

    private func isLocked(_ c: SealedCredential) -> Bool { c.isLocked(maxAttempts: settings.pinMaxAttempts) }

    // MARK: makeCredential

    public func makeCredential(_ request: MakeCredentialRequest, pins: PINPrompter) throws(HelperFailure) -> CreatedCredential {
        try store.check(request)
        let pin = try chooseNewPIN(pins: pins)
        guard let hostSecret = try hostSecret.value(create: true) else {
            throw HelperFailure(.unavailable, "host secret could not be created")
        }

        let key: P256PrivateKey
        do { key = try P256PrivateKey() } catch { throw HelperFailure(.internalError, "key generation failed: \(error)") }
        let credentialID = CredentialID(SecureRandom.bytes(32))
        let kdf = SealedCredential.KDFParameters(algorithm: "scrypt", log2N: settings.kdfCost.log2N, r: settings.kdfCost.r,
                                                 p: settings.kdfCost.p, salt: Base64URL.encode(SecureRandom.bytes(16)))
        let wrapKey = try KeyWrap.wrappingKey(pin: pin, hostSecret: hostSecret, kdf: kdf)
        let nonce = SecureRandom.bytes(AESGCM.nonceByteCount)
        let sealed: [UInt8]
        do {
            sealed = try AESGCM.seal(try key.derRepresentation, key: wrapKey, nonce: nonce,
                                     authenticating: KeyWrap.associatedData(credentialID: credentialID.text, rpID: request.rpID, user: request.user.rawValue))
        } catch { throw HelperFailure(.internalError, "sealing the key failed: \(error)") }

        let record = SealedCredential(
            version: SealedCredential.currentVersion, credentialID: credentialID, rpID: request.rpID, user: request.user.rawValue,
            userHandle: Base64URL.encode(request.userHandle), created: now(), kdf: kdf, nonce: Base64URL.encode(nonce),
            sealedKey: Base64URL.encode(sealed), signCount: 0, failedAttempts: 0, lockedAt: nil)

        let attestation: AttestationObject
        do {
            let authData = try AuthenticatorData(
                rpID: request.rpID, flags: [.userPresent, .userVerified, .attestedCredentialData], signCount: 0,
                attestedCredentialData: try AttestedCredentialData(aaguid: ProjectAAGUID.software, credentialID: credentialID,
                                                                   credentialPublicKey: COSEKey(publicKey: key.publicKey)))
            attestation = try AttestationObject.packedSelf(authData: authData, clientDataHash: request.clientDataHash, key: key)
        } catch { throw HelperFailure(.internalError, "attestation failed: \(error)") }

        try store.update(user: request.user) { (keyring: inout [SealedCredential]) throws(HelperFailure) in
            keyring.append(record)
            if let old = request.replacing { keyring.removeAll { $0.id == old } }
        }
        return CreatedCredential(credentialID: credentialID, attestationObject: attestation.encoded)
    }

    private func chooseNewPIN(pins: PINPrompter) throws(HelperFailure) -> SecretBytes {
        try NewPINDialog.choose(pins: pins, minLength: settings.pinMinLength, tries: settings.newPINTries)
    }

    // MARK: getAssertion

    public func getAssertion(_ request: GetAssertionRequest, pins: PINPrompter) throws(HelperFailure) -> Assertion {
        let chosen = try store.credential(for: request)
        guard let hostSecret = try hostSecret.value(create: false) else {
            throw HelperFailure(.unavailable, "this host's authenticator secret is missing; its credentials cannot be used and must be replaced")
        }
        let attempts = PINAttempts(store: store, user: request.user, maxAttempts: settings.pinMaxAttempts,
                                   triesPerRequest: settings.triesPerRequest, afterReply: afterReply, now: now,
                                   lockedFailure: lockedFailure)
        return try attempts.run(chosen, pins: pins, attemptsLeft: { $0.attemptsLeft(maxAttempts: settings.pinMaxAttempts) }) {
            (counted: SealedCredential, pin: SecretBytes) throws(HelperFailure) -> PINAttempts<SealedCredential>.Check<Assertion> in
            guard let key = try unseal(counted, pin: pin, hostSecret: hostSecret) else { return .wrong(stop: nil) }
            return .right(try sign(with: key, credential: counted, request: request))
        }
    }

    private var lockedFailure: HelperFailure {
        HelperFailure(.locked, "too many wrong PINs; the passkey is locked until it is replaced or unlocked", attemptsLeft: 0)
    }

    /// nil when the PIN is wrong (the AEAD tag does not verify).
    private func unseal(_ c: SealedCredential, pin: SecretBytes, hostSecret: SecretBytes) throws(HelperFailure) -> P256PrivateKey? {
        guard let nonce = Base64URL.decode(c.nonce), let sealed = Base64URL.decode(c.sealedKey) else {
            throw HelperFailure(.unavailable, "credential file is damaged (bad encoding)")
        }
        let wrapKey = try KeyWrap.wrappingKey(pin: pin, hostSecret: hostSecret, kdf: c.kdf)
        guard let der = try? AESGCM.open(sealed, key: wrapKey, nonce: nonce,
                                         authenticating: KeyWrap.associatedData(credentialID: c.credentialID.text, rpID: c.rpID, user: c.user))
        else { return nil }
        do { return try P256PrivateKey(derRepresentation: der) } catch {
            throw HelperFailure(.unavailable, "credential key does not decode: \(error)")
        }
    }

    private func sign(with key: P256PrivateKey, credential: SealedCredential, request: GetAssertionRequest) throws(HelperFailure) -> Assertion {
        do {
            let bytes = try AuthenticatorData(rpID: request.rpID, flags: [.userPresent, .userVerified],
                                              signCount: credential.signCount).bytes
            let signature = try key.signature(for: signedBytes(authenticatorData: bytes, clientDataHash: request.clientDataHash))
            return Assertion(credentialID: credential.id, authenticatorData: bytes, signature: signature.derRepresentation,
                             userHandle: Base64URL.decode(credential.userHandle))
        } catch { throw HelperFailure(.internalError, "signing failed: \(error)") }
    }

    // MARK: administration

    public func deleteCredential(user: UserName, credentialID: CredentialID) throws(HelperFailure) {
        try store.delete(user: user, credentialID: credentialID)
    }

    public func unlock(user: UserName, credentialID: CredentialID?) throws(HelperFailure) {
        try store.unlock(user: user, credentialID: credentialID)
    }
}
