import CTSS2

/// The TPM's dictionary-attack protection and hierarchy state, from TPM2_GetCapability's
/// variable properties. The TPM counts every failed authorization of a DA-protected object
/// (every wrong PIN, of any user's passkey) and refuses them all once `maxTries` is reached.
struct TPMLockoutState: Equatable, Sendable {
    var inLockout: Bool
    /// The owner hierarchy has a password: primary keys cannot be created without it.
    var ownerAuthSet: Bool
    var failedTries: UInt32
    var maxTries: UInt32
    /// Seconds after which the TPM forgets one failed try; 0 disables the protection.
    var recoveryInterval: UInt32

    /// Wrong PINs the TPM still takes before its lockout; nil when its protection is off.
    var triesLeft: Int? {
        if inLockout { return 0 }
        if recoveryInterval == 0 { return nil }
        return max(0, Int(maxTries) - Int(failedTries))
    }

    /// What users and administrators are told when the TPM refuses because of it.
    var lockoutMessage: String {
        "the TPM is in dictionary-attack lockout after \(failedTries) failed authorizations (wrong PINs of any passkey on this host); "
            + "it allows another try after \(recoveryInterval) s, or an administrator can clear it with tpm2_dictionarylockout --clear-lockout"
    }

    static let ownerAuthMessage =
        "the TPM's owner hierarchy has a password; pam_passkey creates its storage key under the owner hierarchy and needs it without one"
}

extension TPMConnection {
    func lockoutState() throws(TPMError) -> TPMLockoutState {
        var more: TPMI_YES_NO = 0
        var data: UnsafeMutablePointer<TPMS_CAPABILITY_DATA>? = nil
        try check(pam_passkey_Esys_GetCapability(context, TSS2.trNone, TSS2.trNone, TSS2.trNone, TSS2.capTPMProperties,
                                     TSS2.ptPermanent, Self.propertyCount, &more, &data), "TPM2_GetCapability")
        defer { pam_passkey_Esys_Free(data) }
        guard let data else { throw .malformed("TPM2_GetCapability returned no data") }
        return try Self.lockoutState(from: data.pointee)
    }

    /// TPM2_PT_PERMANENT through TPM2_PT_LOCKOUT_RECOVERY.
    private static let propertyCount: UInt32 = TSS2.ptLockoutRecovery - TSS2.ptPermanent + 1

    private static func lockoutState(from data: TPMS_CAPABILITY_DATA) throws(TPMError) -> TPMLockoutState {
        guard data.capability == TSS2.capTPMProperties else { throw .malformed("TPM2_GetCapability answered another capability") }
        var list = data.data.tpmProperties
        let capacity = MemoryLayout.size(ofValue: list.tpmProperty) / MemoryLayout<TPMS_TAGGED_PROPERTY>.stride
        let count = min(Int(list.count), capacity)
        var values: [TPM2_PT: UInt32] = [:]
        withUnsafeBytes(of: &list.tpmProperty) { raw in
            for p in raw.bindMemory(to: TPMS_TAGGED_PROPERTY.self).prefix(count) { values[p.property] = p.value }
        }
        guard let permanent = values[TSS2.ptPermanent], let failed = values[TSS2.ptLockoutCounter],
              let max = values[TSS2.ptMaxAuthFail], let interval = values[TSS2.ptLockoutInterval] else {
            throw .malformed("the TPM did not report its dictionary-attack properties")
        }
        return TPMLockoutState(inLockout: permanent & TSS2.permanentInLockout != 0, ownerAuthSet: permanent & 1 != 0,
                               failedTries: failed, maxTries: max, recoveryInterval: interval)
    }
}
