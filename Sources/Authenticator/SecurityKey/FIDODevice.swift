#if canImport(Glibc)
import Glibc
#endif
import CBOREncoding
import CFIDO2
import Crypto
import HelperProtocol
import Identifiers

/// One FIDO2 security key, opened by its device path through libfido2 (dlopened by CFIDO2 on
/// first use). Every operation has a deadline: libfido2 waits forever unless told otherwise.
/// Not shared between threads (the helper has none).
final class FIDODevice {
    let path: String
    private var device: OpaquePointer?

    /// Opens the key at `path` (a hidraw node, or a udev link to one) with `timeoutMilliseconds`
    /// for every exchange. nil when nothing answers there: no key plugged in.
    init(path: String, timeoutMilliseconds: Int32) throws(HelperFailure) {
        self.path = path
        guard let d = pam_passkey_fido_dev_new() else {
            throw HelperFailure(.unavailable, "libfido2: \(pam_passkey_fido_problem().map { String(cString: $0) } ?? "cannot allocate a device")")
        }
        device = d
        _ = pam_passkey_fido_dev_set_timeout(d, timeoutMilliseconds)
        let rc = pam_passkey_fido_dev_open(d, path)
        guard rc == FIDO_OK else {
            var gone: OpaquePointer? = d
            pam_passkey_fido_dev_free(&gone)
            device = nil
            throw HelperFailure(.unavailable, "no security key answers at \(path) (\(Self.text(rc)))")
        }
        guard pam_passkey_fido_dev_is_fido2(d) else {
            close()
            throw HelperFailure(.unavailable, "the key at \(path) speaks only U2F (CTAP1), not FIDO2")
        }
    }

    deinit { close() }

    /// The deadline of every exchange from now on (libfido2 reads it at each call).
    func setTimeout(milliseconds: Int32) {
        if let d = device { _ = pam_passkey_fido_dev_set_timeout(d, milliseconds) }
    }

    func close() {
        guard let d = device else { return }
        _ = pam_passkey_fido_dev_close(d)
        var gone: OpaquePointer? = d
        pam_passkey_fido_dev_free(&gone)
        device = nil
    }

    static func text(_ rc: Int32) -> String {
        guard let s = pam_passkey_fido_strerr(rc) else { return "error \(rc)" }
        return String(cString: s)
    }

    /// The key's model (AAGUID, 16 bytes; zeros when it gives none).
    func aaguid() -> [UInt8] {
        guard let d = device, let info = pam_passkey_fido_cbor_info_new() else { return [UInt8](repeating: 0, count: 16) }
        var owned: OpaquePointer? = info
        defer { pam_passkey_fido_cbor_info_free(&owned) }
        guard pam_passkey_fido_dev_get_cbor_info(d, info) == FIDO_OK, let p = pam_passkey_fido_cbor_info_aaguid_ptr(info),
              pam_passkey_fido_cbor_info_aaguid_len(info) == 16 else { return [UInt8](repeating: 0, count: 16) }
        return Array(UnsafeBufferPointer(start: p, count: 16))
    }

    var hasPIN: Bool { device.map { pam_passkey_fido_dev_has_pin($0) } ?? false }

    /// The key's own count of PIN attempts left (it locks itself at 0); nil when it does not say.
    func pinRetries() -> Int? {
        guard let d = device else { return nil }
        var n: Int32 = 0
        return pam_passkey_fido_dev_get_retry_count(d, &n) == FIDO_OK ? Int(n) : nil
    }

    /// Which of `ids` this key holds for `rpID`, asked without a touch or a PIN (up=false):
    /// the key answers for the first one it finds. Its signature counter moves on.
    func silentlyFind(_ ids: [CredentialID], rpID: String) -> CredentialID? {
        guard let d = device, !ids.isEmpty, let a = pam_passkey_fido_assert_new() else { return nil }
        var owned: OpaquePointer? = a
        defer { pam_passkey_fido_assert_free(&owned) }
        let hash = SecureRandom.bytes(32)
        guard pam_passkey_fido_assert_set_rp(a, rpID) == FIDO_OK,
              pam_passkey_fido_assert_set_clientdata_hash(a, hash, hash.count) == FIDO_OK,
              pam_passkey_fido_assert_set_up(a, FIDO_OPT_FALSE) == FIDO_OK else { return nil }
        for id in ids { guard pam_passkey_fido_assert_allow_cred(a, id.bytes, id.bytes.count) == FIDO_OK else { return nil } }
        guard pam_passkey_fido_dev_get_assert(d, a, nil) == FIDO_OK, pam_passkey_fido_assert_count(a) >= 1,
              let p = pam_passkey_fido_assert_id_ptr(a, 0) else { return nil }
        let found = CredentialID(Array(UnsafeBufferPointer(start: p, count: pam_passkey_fido_assert_id_len(a, 0))))
        return ids.contains(found) ? found : nil
    }

    /// A getAssertion with the PIN (libfido2 gets the PIN token, protocol 2 when the key offers
    /// it, then 1) and a touch. Returns libfido2's code on failure.
    func assert(_ id: CredentialID, rpID: String, clientDataHash: [UInt8], pin: SecretBytes) -> Result<Assertion, FIDOError> {
        guard let d = device, let a = pam_passkey_fido_assert_new() else { return .failure(FIDOError(FIDO_ERR_INTERNAL)) }
        var owned: OpaquePointer? = a
        defer { pam_passkey_fido_assert_free(&owned) }
        var rc = pam_passkey_fido_assert_set_rp(a, rpID)
        if rc == FIDO_OK { rc = pam_passkey_fido_assert_set_clientdata_hash(a, clientDataHash, clientDataHash.count) }
        if rc == FIDO_OK { rc = pam_passkey_fido_assert_allow_cred(a, id.bytes, id.bytes.count) }
        if rc == FIDO_OK { rc = withCString(pin) { pam_passkey_fido_dev_get_assert(d, a, $0) } }
        guard rc == FIDO_OK else { return .failure(FIDOError(rc)) }
        guard pam_passkey_fido_assert_count(a) == 1, let idp = pam_passkey_fido_assert_id_ptr(a, 0),
              let adp = pam_passkey_fido_assert_authdata_ptr(a, 0), let sigp = pam_passkey_fido_assert_sig_ptr(a, 0) else {
            return .failure(FIDOError(FIDO_ERR_INTERNAL))
        }
        let returned = CredentialID(Array(UnsafeBufferPointer(start: idp, count: pam_passkey_fido_assert_id_len(a, 0))))
        // libfido2 hands authenticatorData over as the CBOR byte string the key sent.
        let wrapped = Array(UnsafeBufferPointer(start: adp, count: pam_passkey_fido_assert_authdata_len(a, 0)))
        guard case .byteString(let authData)? = try? CBOR.decode(wrapped) else { return .failure(FIDOError(FIDO_ERR_RX_INVALID_CBOR)) }
        let signature = Array(UnsafeBufferPointer(start: sigp, count: pam_passkey_fido_assert_sig_len(a, 0)))
        return .success(Assertion(credentialID: returned, authenticatorData: authData, signature: signature, userHandle: nil))
    }

    /// A makeCredential (ES256, not discoverable) with the PIN and a touch: the credential id
    /// and the attestation object as WebAuthn defines it.
    func makeCredential(rpID: String, clientDataHash: [UInt8], userHandle: [UInt8], userName: String,
                        pin: SecretBytes) -> Result<CreatedCredential, FIDOError> {
        guard let d = device, let c = pam_passkey_fido_cred_new() else { return .failure(FIDOError(FIDO_ERR_INTERNAL)) }
        var owned: OpaquePointer? = c
        defer { pam_passkey_fido_cred_free(&owned) }
        var rc = pam_passkey_fido_cred_set_type(c, COSE_ES256)
        if rc == FIDO_OK { rc = pam_passkey_fido_cred_set_clientdata_hash(c, clientDataHash, clientDataHash.count) }
        if rc == FIDO_OK { rc = pam_passkey_fido_cred_set_rp(c, rpID, "pam_passkey") }
        if rc == FIDO_OK { rc = pam_passkey_fido_cred_set_user(c, userHandle, userHandle.count, userName, nil, nil) }
        if rc == FIDO_OK { rc = pam_passkey_fido_cred_set_rk(c, FIDO_OPT_FALSE) }
        if rc == FIDO_OK { rc = withCString(pin) { pam_passkey_fido_dev_make_cred(d, c, $0) } }
        guard rc == FIDO_OK else { return .failure(FIDOError(rc)) }
        guard let fmt = pam_passkey_fido_cred_fmt(c), let idp = pam_passkey_fido_cred_id_ptr(c),
              let adp = pam_passkey_fido_cred_authdata_raw_ptr(c), let stp = pam_passkey_fido_cred_attstmt_ptr(c) else {
            return .failure(FIDOError(FIDO_ERR_INTERNAL))
        }
        let id = CredentialID(Array(UnsafeBufferPointer(start: idp, count: pam_passkey_fido_cred_id_len(c))))
        let authData = Array(UnsafeBufferPointer(start: adp, count: pam_passkey_fido_cred_authdata_raw_len(c)))
        guard let statement = try? CBOR.decode(Array(UnsafeBufferPointer(start: stp, count: pam_passkey_fido_cred_attstmt_len(c)))) else {
            return .failure(FIDOError(FIDO_ERR_RX_INVALID_CBOR))
        }
        let object = CBOR.map([.textString("fmt"): .textString(String(cString: fmt)), .textString("attStmt"): statement,
                               .textString("authData"): .byteString(authData)])
        return .success(CreatedCredential(credentialID: id, attestationObject: object.encoded()))
    }

    /// Sets the first PIN of a key that has none.
    func setPIN(_ pin: SecretBytes) -> FIDOError? {
        guard let d = device else { return FIDOError(FIDO_ERR_INTERNAL) }
        let rc = withCString(pin) { pam_passkey_fido_dev_set_pin(d, $0, nil) }
        return rc == FIDO_OK ? nil : FIDOError(rc)
    }

    /// `pin` as a NUL-terminated C string for the length of `body`, wiped after. A PIN with a
    /// NUL byte in it cannot be given to libfido2: it is passed as an empty PIN (refused).
    private func withCString(_ pin: SecretBytes, _ body: (UnsafePointer<CChar>) -> Int32) -> Int32 {
        let buffer = SecretBytes(count: pin.count + 1)
        return buffer.withUnsafeMutableBytes { out -> Int32 in
            var hasNUL = false
            pin.withUnsafeBytes { p in
                for i in 0..<p.count { out[i] = p[i]; if p[i] == 0 { hasNUL = true } }
            }
            out[pin.count] = 0
            if hasNUL { out[0] = 0 }
            return body(out.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
    }
}

/// A libfido2 result code, with its words.
struct FIDOError: Error, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { FIDODevice.text(code) }
}
