import CTSS2

/// A TSS2_RC as libtss2 returns it: which layer produced it and, for the TPM's own codes, the
/// code with the handle, session and parameter numbers masked out.
struct TPMResponseCode: Equatable, Sendable, CustomStringConvertible {
    let raw: TSS2_RC

    var layer: UInt32 { (raw >> TSS2.layerShift) & 0xFF }

    /// The TPM's response code without the number of the handle, session or parameter it
    /// concerns; nil when a software layer (TCTI, ESAPI) produced the error.
    var tpmCode: UInt32? {
        guard layer == TSS2.layerTPM || layer == TSS2.layerResourceManagerTPM else { return nil }
        let code = raw & 0xFFFF
        return code & TSS2.rcFormat1 != 0 ? code & (TSS2.rcFormat1 | 0x3F) : code
    }

    /// The authorization (the PIN) was wrong. AUTH_FAIL also counted a dictionary-attack
    /// failure; BAD_AUTH did not (the object was noDA, which ours never are).
    var isWrongAuthorization: Bool { tpmCode == TSS2.rcAuthFail || tpmCode == TSS2.rcBadAuth }

    /// The TPM refuses every DA-protected authorization until its lockout ends.
    var isLockout: Bool { tpmCode == TSS2.rcLockout }

    /// A format-one error: the TPM rejected a value we sent (for TPM2_Load: the blobs).
    var isParameterError: Bool { (tpmCode ?? 0) & TSS2.rcFormat1 != 0 }

    var description: String {
        let hex = "0x" + String(raw, radix: 16, uppercase: false)
        if raw == pam_passkey_tss2_rc_no_library(), let why = pam_passkey_tss2_problem() {
            return "libtss2 could not be loaded: \(String(cString: why)) (\(hex)); install libtss2-esys-3.0.2-0 and libtss2-tctildr0"
        }
        guard let text = pam_passkey_Tss2_RC_Decode(raw) else { return hex }
        return "\(String(cString: text)) (\(hex))"
    }
}

/// Why a TPM operation failed. The authenticator turns these into `HelperFailure`s.
enum TPMError: Error, Equatable, CustomStringConvertible {
    /// The TCTI could not be loaded or connected: no TPM at that address.
    case transport(tcti: String, TPMResponseCode)
    /// No answer within the presence check's time limit.
    case timeout(tcti: String, milliseconds: Int32)
    /// A TPM command (or ESAPI's processing of it) failed.
    case command(String, TPMResponseCode)
    /// A blob or a TPM answer is not what this code creates and expects.
    case malformed(String)

    var responseCode: TPMResponseCode? {
        switch self {
        case .transport(_, let rc), .command(_, let rc): return rc
        case .timeout, .malformed: return nil
        }
    }

    var description: String {
        switch self {
        case .transport(let tcti, let rc): return "no TPM answers at TCTI \"\(tcti)\": \(rc)"
        case .timeout(let tcti, let ms): return "the TPM at TCTI \"\(tcti)\" did not answer within \(ms) ms"
        case .command(let name, let rc): return "\(name) failed: \(rc)"
        case .malformed(let what): return what
        }
    }
}
