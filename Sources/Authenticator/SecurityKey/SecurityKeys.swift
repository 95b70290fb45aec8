#if canImport(Glibc)
import Glibc
#endif
import CFIDO2
import Crypto
import HelperProtocol
import Identifiers

/// The FIDO2 security keys plugged into this host, through libfido2. Unlike the host
/// authenticator a key keeps its own PIN counter and its own lock, travels with its owner and
/// holds credentials made on any host: the helper only finds it, asks it and reports what
/// it says.
public struct SecurityKeys {
    /// Where keys are looked for.
    public enum Devices: Equatable, Sendable {
        /// libfido2's enumeration (udev hidraw devices).
        case enumerate
        /// None: security keys are not used on this host.
        case off
        /// These device paths (udev links such as /dev/yubikey); a path with nothing at it is
        /// a key that is not plugged in.
        case paths([String])
    }

    public struct Settings: Sendable {
        public var devices: Devices
        /// How long a key may wait for its touch.
        public var touchTimeoutSeconds: Int
        /// Shortest PIN accepted when a key without a PIN gets its first one.
        public var pinMinLength: Int
        public var newPINTries: Int = 3
        /// Wrong PINs one request asks again after.
        public var triesPerRequest: Int = 3

        public init(devices: Devices, touchTimeoutSeconds: Int, pinMinLength: Int) {
            self.devices = devices
            self.touchTimeoutSeconds = touchTimeoutSeconds
            self.pinMinLength = pinMinLength
        }
    }

    public let settings: Settings
    /// How long a probe or a PIN exchange may take (no touch involved).
    static let exchangeTimeoutMilliseconds: Int32 = 3000

    public init(settings: Settings) { self.settings = settings }

    /// The device paths to try, in order.
    func paths() -> [String] {
        switch settings.devices {
        case .off: return []
        case .paths(let p): return p
        case .enumerate:
            let max = 16
            guard let list = pam_passkey_fido_dev_info_new(max) else { return [] }
            var owned: OpaquePointer? = list
            defer { pam_passkey_fido_dev_info_free(&owned, max) }
            var found = 0
            guard pam_passkey_fido_dev_info_manifest(list, max, &found) == FIDO_OK else { return [] }
            return (0..<min(found, max)).compactMap { i in
                guard let info = pam_passkey_fido_dev_info_ptr(list, i), let p = pam_passkey_fido_dev_info_path(info) else { return nil }
                return String(cString: p)
            }
        }
    }

    /// One report per key that answers: healthy, with those of `ids` it holds for `rpID`
    /// (found silently: no touch, no PIN). Keys that are not plugged in are not reported.
    /// No ids: keys are not looked at, unless `presence` asks which are plugged in.
    public func reports(looking ids: [CredentialID], rpID: String, presence: Bool = false) -> [AuthenticatorReport] {
        reports(looking: [SecurityKeyLookup(rpID: rpID, credentials: ids)], presence: presence)
    }

    /// The same, for credentials of several relying party ids (the policy's rp_id and
    /// FreeIPA's domain): each group is looked for with its own id, on every key.
    public func reports(looking groups: [SecurityKeyLookup], presence: Bool = false) -> [AuthenticatorReport] {
        let groups = groups.filter { !$0.credentials.isEmpty }
        guard !groups.isEmpty || presence else { return [] }
        var reports: [AuthenticatorReport] = []
        for path in paths() {
            guard let key = try? FIDODevice(path: path, timeoutMilliseconds: Self.exchangeTimeoutMilliseconds) else { continue }
            let retries = key.pinRetries() ?? 0
            let held = groups.compactMap { g in
                key.silentlyFind(g.credentials, rpID: g.rpID).map {
                    HeldCredential(id: $0, rpID: g.rpID, created: 0, locked: key.hasPIN && retries == 0, attemptsLeft: retries)
                }
            }
            reports.append(AuthenticatorReport(
                health: AuthenticatorHealth(kind: .securityKey, aaguid: key.aaguid(), condition: .healthy, detail: path),
                held: held))
        }
        return reports
    }

    /// The first key that answers and holds one of `ids`, and the one it holds.
    private func keyHolding(_ ids: [CredentialID], rpID: String) throws(HelperFailure) -> (FIDODevice, CredentialID) {
        var present = 0
        for path in paths() {
            guard let key = try? FIDODevice(path: path, timeoutMilliseconds: Self.exchangeTimeoutMilliseconds) else { continue }
            present += 1
            if let id = key.silentlyFind(ids, rpID: rpID) { return (key, id) }
        }
        throw present == 0
            ? HelperFailure(.unavailable, "no security key is plugged in")
            : HelperFailure(.noCredential, "none of the security keys plugged in holds this user's passkey")
    }

    /// A login with the key that holds one of the allowed credentials: its PIN, then a touch.
    public func getAssertion(_ request: GetAssertionRequest, pins: PINPrompter) throws(HelperFailure) -> Assertion {
        guard request.clientDataHash.count == 32 else { throw HelperFailure(.badRequest, "clientDataHash must be 32 bytes") }
        let (key, id) = try keyHolding(request.allowCredentials, rpID: request.rpID)
        // Found on the short deadline; the PIN and the touch get the touch timeout.
        key.setTimeout(milliseconds: Int32(clamping: settings.touchTimeoutSeconds * 1000))
        guard key.hasPIN else {
            throw HelperFailure(.unavailable, "the security key at \(key.path) has no PIN, so it cannot verify its user; set one (passkeyctl enroll --security-key, or fido2-token -S)")
        }
        var retry = false
        for _ in 0..<settings.triesPerRequest {
            let left = key.pinRetries() ?? 0
            if left == 0 { throw Self.blocked }
            guard let pin = try pins.answer(.securityKey(retriesLeft: left, retry: retry)), !pin.isEmpty else {
                throw HelperFailure(.cancelled, "PIN prompt cancelled")
            }
            try pins.notify(.touch(seconds: settings.touchTimeoutSeconds))
            switch key.assert(id, rpID: request.rpID, clientDataHash: request.clientDataHash, pin: pin) {
            case .success(let assertion):
                return assertion
            case .failure(let e):
                switch e.code {
                case FIDO_ERR_PIN_INVALID:
                    retry = true
                    continue
                default:
                    throw Self.failure(e, key: key)
                }
            }
        }
        let left = key.pinRetries() ?? 0
        throw left == 0 ? Self.blocked : HelperFailure(.wrongPIN, "wrong security key PIN", attemptsLeft: left)
    }

    /// A new credential on the first key plugged in, with its PIN (a key without one gets it
    /// now) and a touch.
    public func makeCredential(_ request: MakeCredentialRequest, pins: PINPrompter) throws(HelperFailure) -> CreatedCredential {
        guard request.clientDataHash.count == 32 else { throw HelperFailure(.badRequest, "clientDataHash must be 32 bytes") }
        var key: FIDODevice? = nil
        for path in paths() {
            if let k = try? FIDODevice(path: path, timeoutMilliseconds: Int32(clamping: settings.touchTimeoutSeconds * 1000)) { key = k; break }
        }
        guard let key else { throw HelperFailure(.unavailable, "no security key is plugged in") }
        let pin: SecretBytes
        if key.hasPIN {
            let left = key.pinRetries() ?? 0
            if left == 0 { throw Self.blocked }
            guard let given = try pins.answer(.securityKey(retriesLeft: left, retry: false)), !given.isEmpty else {
                throw HelperFailure(.cancelled, "PIN prompt cancelled")
            }
            pin = given
        } else {
            pin = try NewPINDialog.choose(pins: pins, minLength: max(4, settings.pinMinLength), tries: settings.newPINTries)
            if let e = key.setPIN(pin) { throw HelperFailure(.unavailable, "the security key did not take the new PIN: \(e)") }
        }
        try pins.notify(.touch(seconds: settings.touchTimeoutSeconds))
        switch key.makeCredential(rpID: request.rpID, clientDataHash: request.clientDataHash, userHandle: request.userHandle,
                                  userName: request.user.rawValue, pin: pin) {
        case .success(let created): return created
        case .failure(let e):
            if e.code == FIDO_ERR_PIN_INVALID {
                throw HelperFailure(.wrongPIN, "wrong security key PIN", attemptsLeft: key.pinRetries() ?? 0)
            }
            throw Self.failure(e, key: key)
        }
    }

    static let blocked = HelperFailure(.locked, "the security key's PIN is blocked after too many wrong PINs; only resetting the key (which erases its passkeys) unblocks it", attemptsLeft: 0)

    static func failure(_ e: FIDOError, key: FIDODevice) -> HelperFailure {
        switch e.code {
        case FIDO_ERR_PIN_BLOCKED:
            return blocked
        case FIDO_ERR_PIN_AUTH_BLOCKED:
            return HelperFailure(.locked, "the security key refuses PINs after three wrong ones in a row; remove it and plug it in again", attemptsLeft: key.pinRetries())
        case FIDO_ERR_OPERATION_DENIED:
            return HelperFailure(.cancelled, "the security key's touch was refused")
        case FIDO_ERR_ACTION_TIMEOUT, FIDO_ERR_USER_ACTION_TIMEOUT, FIDO_ERR_KEEPALIVE_CANCEL:
            return HelperFailure(.cancelled, "the security key was not touched in time")
        case FIDO_ERR_NO_CREDENTIALS:
            return HelperFailure(.noCredential, "the security key no longer holds this passkey")
        case FIDO_ERR_TX, FIDO_ERR_RX:
            return HelperFailure(.unavailable, "the security key at \(key.path) stopped answering (\(e))")
        default:
            return HelperFailure(.unavailable, "the security key at \(key.path) failed: \(e)")
        }
    }
}
