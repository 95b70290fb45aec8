import Crypto
import CTSS2
import HelperProtocol
import WebAuthn
import Identifiers

/// The TPM 2.0 host authenticator: each passkey is an ECC P-256 key inside this computer's
/// TPM, created under the TPM's storage primary key, unusable on any other TPM, and usable
/// only with an authValue derived from the PIN, which the TPM checks.
///
/// Two limits on PIN guesses, each reported as what it is:
/// - per credential, `pin_max_attempts` wrong PINs in a row lock it (the counter is written
///   and synced before the TPM sees each PIN, reset only after a signature), so one user
///   hammering their own PIN cannot push the TPM into lockout for everyone;
/// - the TPM's own dictionary-attack protection counts every wrong PIN of every passkey on the
///   host and, at its limit, refuses them all for a while: the global backstop, which also
///   holds against someone who rolls back or deletes our counters.
public struct TPMAuthenticator: HostAuthenticator {
    public struct Settings: Sendable {
        /// Tss2_TctiLdr_Initialize syntax: `device:/dev/tpmrm0`, `swtpm:path=/run/swtpm.sock`.
        public var tcti: String
        public var pinMinLength: Int
        public var pinMaxAttempts: Int
        /// Wrong PINs accepted within one request before it gives up.
        public var triesPerRequest: Int = 3
        /// Attempts at choosing an acceptable new PIN before giving up.
        public var newPINTries: Int = 3
        /// How long `health()` waits for the TPM to answer.
        public var probeTimeoutMilliseconds: Int32 = 2000

        public init(tcti: String, pinMinLength: Int, pinMaxAttempts: Int) {
            self.tcti = tcti
            self.pinMinLength = pinMinLength
            self.pinMaxAttempts = pinMaxAttempts
        }
    }

    public let store: KeyringStore<TPMCredential>
    public let settings: Settings
    /// Why this backend serves (reported by `health()`).
    public var selection: String?
    /// Where the counter reset after a right PIN goes (nil: done before returning).
    /// Where the counter reset after a right PIN goes: run after the reply is sent.
    public let afterReply: AfterReply
    let now: () -> Int64

    public init(store: KeyringStore<TPMCredential>, settings: Settings, selection: String? = nil, afterReply: AfterReply,
                now: @escaping () -> Int64) {
        self.afterReply = afterReply
        self.store = store
        self.settings = settings
        self.selection = selection
        self.now = now
    }

    // MARK: health

    public func health() -> AuthenticatorHealth {
        let condition: AuthenticatorCondition
        if let stateProblem = store.problem() {
            condition = .broken(stateProblem)
        } else {
            switch Self.presence(tcti: settings.tcti, timeoutMilliseconds: settings.probeTimeoutMilliseconds) {
            case .answering(let problem): condition = problem.map(AuthenticatorCondition.broken) ?? .healthy
            // No TPM at the TCTI: there is no authenticator here (not a broken one).
            case .absent(let why): condition = .unavailable(why)
            }
        }
        return AuthenticatorHealth(kind: .tpm, aaguid: ProjectAAGUID.tpm, condition: condition,
                                   detail: selection ?? "TPM at TCTI \"\(settings.tcti)\"")
    }

    /// Whether a TPM answers at `tcti`, and if so whether it can serve passkeys now.
    public enum Presence: Equatable, Sendable {
        /// A TPM answered; `problem` says why it cannot serve passkeys now, if it cannot.
        case answering(problem: String?)
        /// Nothing answered (no device, no socket, no reply in time): why.
        case absent(String)
    }

    /// One TPM2_GetCapability, given up after `timeoutMilliseconds` (see `TPMPresenceCheck`).
    public static func presence(tcti: String, timeoutMilliseconds: Int32) -> Presence {
        TPMPresenceCheck.run(tcti: tcti, timeoutMilliseconds: timeoutMilliseconds)
    }

    // MARK: credentials

    public func credentials(user: UserName, rpID: String) throws(HelperFailure) -> [HeldCredential] {
        let mine = try store.credentials(of: user).filter { $0.rpID == rpID }
        guard !mine.isEmpty else { return [] }
        let (state, loadable) = try tpm { (c: TPMConnection) throws(TPMError) -> (TPMLockoutState, Set<CredentialID>) in
            let state = try c.lockoutState()
            let primary = try TPMStoragePrimary.create(on: c)
            var loadable: Set<CredentialID> = []
            for record in mine {
                if case .loaded(let key) = try Self.load(record, on: c, parent: primary) {
                    c.flush(key)
                    loadable.insert(record.credentialID)
                }
            }
            return (state, loadable)
        }
        // A credential whose key no longer loads (another TPM, or this one cleared) is not
        // held: the decision sees it as missing and offers to replace it after the password.
        return mine.filter { loadable.contains($0.credentialID) }.map { c in
            HeldCredential(id: c.id, rpID: c.rpID, created: c.created, locked: isLocked(c) || state.inLockout,
                           attemptsLeft: attemptsLeft(c, tpm: state))
        }
    }

    private func isLocked(_ c: TPMCredential) -> Bool { c.isLocked(maxAttempts: settings.pinMaxAttempts) }

    /// The smaller of the two limits: ours for this credential, the TPM's for the host.
    private func attemptsLeft(_ c: TPMCredential, tpm state: TPMLockoutState?) -> Int {
        let ours = c.attemptsLeft(maxAttempts: settings.pinMaxAttempts)
        guard let tpmLeft = state?.triesLeft else { return ours }
        return min(ours, tpmLeft)
    }

    // MARK: makeCredential

    public func makeCredential(_ request: MakeCredentialRequest, pins: PINPrompter) throws(HelperFailure) -> CreatedCredential {
        try store.check(request)
        // The TPM must be able to make and use a key before the user chooses a PIN for it.
        let state = try tpm { (c: TPMConnection) throws(TPMError) in try c.lockoutState() }
        if state.inLockout { throw HelperFailure(.locked, state.lockoutMessage, attemptsLeft: 0) }
        if state.ownerAuthSet { throw HelperFailure(.unavailable, TPMLockoutState.ownerAuthMessage) }

        let pin = try NewPINDialog.choose(pins: pins, minLength: settings.pinMinLength, tries: settings.newPINTries)
        let salt = SecureRandom.bytes(TPMAuthValue.saltByteCount)
        let authValue = TPMAuthValue.derive(pin: pin, salt: salt)
        let credentialID = CredentialID(SecureRandom.bytes(32))

        // The TPM signs the attestation with the new key, authorized by the new PIN: UV is
        // claimed only once the TPM has accepted that PIN for that key.
        let (created, authData, signature) = try tpm {
            (c: TPMConnection) throws(TPMError) -> (TPMCredentialKey.Created, AuthenticatorData, ECDSASignature) in
            let primary = try TPMStoragePrimary.create(on: c)
            let session = try TPMSession.startSalted(on: c, saltKey: primary)
            let created = try TPMCredentialKey.create(on: c, parent: primary, session: session, authValue: authValue)
            let authData: AuthenticatorData
            do {
                authData = try AuthenticatorData(
                    rpID: request.rpID, flags: [.userPresent, .userVerified, .attestedCredentialData], signCount: 0,
                    attestedCredentialData: try AttestedCredentialData(aaguid: ProjectAAGUID.tpm, credentialID: credentialID,
                                                                       credentialPublicKey: COSEKey(publicKey: created.publicKey)))
            } catch { throw .malformed("authenticator data: \(error)") }
            let key = try TPMCredentialKey.load(on: c, parent: primary, blobs: created.blobs)
            let signature = try TPMCredentialKey.sign(on: c, key: key, session: session, authValue: authValue,
                                                      digest: SHA256.hash(signedBytes(authenticatorData: authData.rawBytes, clientDataHash: request.clientDataHash)))
            return (created, authData, signature)
        }

        let record = TPMCredential(
            version: TPMCredential.currentVersion, credentialID: credentialID, rpID: request.rpID, user: request.user.rawValue,
            userHandle: Base64URL.encode(request.userHandle), created: now(), parent: TPMStoragePrimary.name,
            authSalt: Base64URL.encode(salt), publicArea: Base64URL.encode(created.blobs.publicArea),
            privateArea: Base64URL.encode(created.blobs.privateArea), signCount: 0, failedAttempts: 0, lockedAt: nil)
        try store.update(user: request.user) { (keyring: inout [TPMCredential]) throws(HelperFailure) in
            keyring.append(record)
            if let old = request.replacing { keyring.removeAll { $0.id == old } }
        }
        let attestation = AttestationObject(fmt: AttestationObject.packedFormat,
                                            attStmt: ["alg": .int(COSEKey.es256), "sig": .byteString(signature.derRepresentation)],
                                            authData: authData)
        return CreatedCredential(credentialID: credentialID, attestationObject: attestation.encoded)
    }

    // MARK: getAssertion

    public func getAssertion(_ request: GetAssertionRequest, pins: PINPrompter) throws(HelperFailure) -> Assertion {
        let chosen = try store.credential(for: request)
        guard !isLocked(chosen) else { throw lockedFailure }
        guard let salt = Base64URL.decode(chosen.authSalt), salt.count == TPMAuthValue.saltByteCount else {
            throw HelperFailure(.unavailable, "the TPM credential record is damaged (authSalt); the passkey must be replaced")
        }

        // Before asking for a PIN: the TPM answers, is not in lockout, and takes this key.
        let (initial, unloadable) = try tpm { (c: TPMConnection) throws(TPMError) -> (TPMLockoutState, String?) in
            let state = try c.lockoutState()
            let primary = try TPMStoragePrimary.create(on: c)
            switch try Self.load(chosen, on: c, parent: primary) {
            case .loaded(let key): c.flush(key); return (state, nil)
            case .unloadable(let why): return (state, why)
            }
        }
        if let unloadable { throw HelperFailure(.unavailable, unloadable) }
        if initial.inLockout { throw HelperFailure(.locked, initial.lockoutMessage, attemptsLeft: 0) }

        var tpmState = initial
        let attempts = PINAttempts(store: store, user: request.user, maxAttempts: settings.pinMaxAttempts,
                                   triesPerRequest: settings.triesPerRequest, afterReply: afterReply, now: now,
                                   lockedFailure: lockedFailure)
        return try attempts.run(chosen, pins: pins, attemptsLeft: { attemptsLeft($0, tpm: tpmState) }) {
            (counted: TPMCredential, pin: SecretBytes) throws(HelperFailure) -> PINAttempts<TPMCredential>.Check<Assertion> in
            let authValue = TPMAuthValue.derive(pin: pin, salt: salt)
            let authData: [UInt8]
            do {
                authData = try AuthenticatorData(rpID: request.rpID, flags: [.userPresent, .userVerified], signCount: counted.signCount).bytes
            } catch { throw HelperFailure(.internalError, "authenticator data: \(error)") }
            let digest = SHA256.hash(signedBytes(authenticatorData: authData, clientDataHash: request.clientDataHash))
            let outcome = try tpm { (c: TPMConnection) throws(TPMError) in try Self.attemptSignature(counted, authValue: authValue, digest: digest, on: c) }
            switch outcome {
            case .signed(let signature):
                return .right(Assertion(credentialID: counted.id, authenticatorData: authData, signature: signature.derRepresentation,
                                        userHandle: Base64URL.decode(counted.userHandle)))
            case .wrongPIN(let after):
                tpmState = after
                return .wrong(stop: after.inLockout ? HelperFailure(.locked, after.lockoutMessage, attemptsLeft: 0) : nil)
            case .refused(let failure, let after):
                // The TPM never checked this PIN (lockout, or the key stopped loading): it was
                // no guess, so it does not count against the credential.
                if let after, after.inLockout { return .notChecked(HelperFailure(.locked, after.lockoutMessage, attemptsLeft: 0)) }
                return .notChecked(failure)
            }
        }
    }

    private var lockedFailure: HelperFailure {
        HelperFailure(.locked, "too many wrong PINs for this passkey; it is locked until it is replaced or unlocked", attemptsLeft: 0)
    }

    enum SignatureOutcome {
        case signed(ECDSASignature)
        /// The TPM rejected the authValue; its dictionary-attack state afterwards.
        case wrongPIN(TPMLockoutState)
        /// The TPM did not check the PIN at all.
        case refused(HelperFailure, TPMLockoutState?)
    }

    /// One PIN attempt, in one connection: primary, key, salted session, TPM2_Sign.
    static func attemptSignature(_ record: TPMCredential, authValue: SecretBytes, digest: [UInt8],
                                 on c: TPMConnection) throws(TPMError) -> SignatureOutcome {
        let primary = try TPMStoragePrimary.create(on: c)
        let key: ESYS_TR
        switch try load(record, on: c, parent: primary) {
        case .loaded(let k): key = k
        case .unloadable(let why): return .refused(HelperFailure(.unavailable, why), nil)
        }
        let session = try TPMSession.startSalted(on: c, saltKey: primary)
        do {
            return .signed(try TPMCredentialKey.sign(on: c, key: key, session: session, authValue: authValue, digest: digest))
        } catch where error.responseCode?.isWrongAuthorization == true {
            return .wrongPIN(try c.lockoutState())
        } catch where error.responseCode?.isLockout == true {
            let state = try? c.lockoutState()
            return .refused(HelperFailure(.locked, state?.lockoutMessage ?? "the TPM is in dictionary-attack lockout", attemptsLeft: 0), state)
        }
    }

    enum LoadOutcome {
        case loaded(ESYS_TR)
        /// The blobs are damaged, or belong to another TPM (or to this one before TPM2_Clear).
        case unloadable(String)
    }

    /// Loads a credential's key; other TPM failures (no slot free, TPM gone) are thrown.
    static func load(_ record: TPMCredential, on c: TPMConnection, parent: ESYS_TR) throws(TPMError) -> LoadOutcome {
        guard record.parent == TPMStoragePrimary.name, let blobs = record.blobs else {
            return .unloadable("the TPM credential record is damaged or of an unknown kind; the passkey must be replaced")
        }
        do {
            return .loaded(try TPMCredentialKey.load(on: c, parent: parent, blobs: blobs))
        } catch .malformed(let why) {
            return .unloadable("the stored TPM key is unusable (\(why)); the passkey must be replaced")
        } catch where error.responseCode?.isParameterError == true {
            return .unloadable("this passkey's key does not load into this computer's TPM — it was made by another TPM, "
                + "or this TPM was cleared since (\(error)); the passkey must be replaced")
        }
    }

    /// Runs `body` on a fresh connection; TPM failures become `.unavailable` (or `.locked`).
    private func tpm<R>(_ body: (TPMConnection) throws(TPMError) -> R) throws(HelperFailure) -> R {
        do {
            return try TPMConnection.open(tcti: settings.tcti, body)
        } catch where error.responseCode?.isLockout == true {
            throw HelperFailure(.locked, "the TPM is in dictionary-attack lockout: \(error)", attemptsLeft: 0)
        } catch {
            throw HelperFailure(.unavailable, "TPM: \(error)")
        }
    }

    // MARK: administration

    public func deleteCredential(user: UserName, credentialID: CredentialID) throws(HelperFailure) {
        try store.delete(user: user, credentialID: credentialID)
    }

    /// Clears this backend's per-credential counters. The TPM's own dictionary-attack counter
    /// is not touched: resetting it needs the lockout hierarchy's authorization, which is the
    /// administrator's (tpm2_dictionarylockout --clear-lockout).
    public func unlock(user: UserName, credentialID: CredentialID?) throws(HelperFailure) {
        try store.unlock(user: user, credentialID: credentialID)
    }
}
