import CTSS2

/// The parent of every credential key: the TCG's standard ECC P-256 storage root key (SRK)
/// template under the owner hierarchy (TCG TPM 2.0 Provisioning Guidance, SRK templates).
/// A primary key is derived from the hierarchy's seed and the template alone, so creating it
/// again yields the same key on the same TPM — nothing to keep in a persistent handle — and a
/// different one on any other TPM, or after TPM2_Clear, where our blobs no longer load.
enum TPMStoragePrimary {
    /// Names the parent in stored records, in case another one is ever used.
    static let name = "owner-ecc-p256-srk"

    static var template: TPM2B_PUBLIC {
        var t = TPM2B_PUBLIC()
        t.publicArea.type = TSS2.algECC
        t.publicArea.nameAlg = TSS2.algSHA256
        t.publicArea.objectAttributes = TSS2.fixedTPM | TSS2.fixedParent | TSS2.sensitiveDataOrigin | TSS2.userWithAuth
            | TSS2.noDA | TSS2.restricted | TSS2.decrypt
        t.publicArea.parameters.eccDetail.symmetric.algorithm = TSS2.algAES
        t.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128
        t.publicArea.parameters.eccDetail.symmetric.mode.aes = TSS2.algCFB
        t.publicArea.parameters.eccDetail.scheme.scheme = TSS2.algNull
        t.publicArea.parameters.eccDetail.curveID = TSS2.eccNISTP256
        t.publicArea.parameters.eccDetail.kdf.scheme = TSS2.algNull
        // The template fixes both coordinates as 32 zero bytes.
        t.publicArea.unique.ecc.x.size = 32
        t.publicArea.unique.ecc.y.size = 32
        return t
    }

    /// Creates the primary key as a transient object of `connection` (flushed when it closes).
    static func create(on connection: TPMConnection) throws(TPMError) -> ESYS_TR {
        var inPublic = template
        var sensitive = TPM2B_SENSITIVE_CREATE()
        var outsideInfo = TPM2B_DATA()
        var pcrs = TPML_PCR_SELECTION()
        var handle: ESYS_TR = TSS2.trNone
        var outPublic: UnsafeMutablePointer<TPM2B_PUBLIC>? = nil
        var creationData: UnsafeMutablePointer<TPM2B_CREATION_DATA>? = nil
        var creationHash: UnsafeMutablePointer<TPM2B_DIGEST>? = nil
        var ticket: UnsafeMutablePointer<TPMT_TK_CREATION>? = nil
        let rc = pam_passkey_Esys_CreatePrimary(connection.context, TSS2.trOwner, TSS2.trPassword, TSS2.trNone, TSS2.trNone,
                                    &sensitive, &inPublic, &outsideInfo, &pcrs,
                                    &handle, &outPublic, &creationData, &creationHash, &ticket)
        pam_passkey_Esys_Free(outPublic)
        pam_passkey_Esys_Free(creationData)
        pam_passkey_Esys_Free(creationHash)
        pam_passkey_Esys_Free(ticket)
        try connection.check(rc, "TPM2_CreatePrimary (storage key)")
        connection.track(handle)
        return handle
    }
}
