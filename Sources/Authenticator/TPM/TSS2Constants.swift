import CTSS2

/// Values of libtss2 macros that Swift cannot import (they are casts, or computed from other
/// macros), copied from tss2_esys.h, tss2_tpm2_types.h and tss2_common.h of libtss2 3.x. They
/// are fixed by the TPM 2.0 specification and the ESAPI ABI, so they cannot drift.
enum TSS2 {
    // ESAPI resource handles (tss2_esys.h).
    static let trNone: ESYS_TR = 0xFFF
    static let trPassword: ESYS_TR = 0x0FF
    static let trOwner: ESYS_TR = 0x101
    static let trLockout: ESYS_TR = 0x10A

    // Algorithms (TPM2_ALG_ID) and curves.
    static let algAES: TPM2_ALG_ID = 0x0006
    static let algSHA256: TPM2_ALG_ID = 0x000B
    static let algNull: TPM2_ALG_ID = 0x0010
    static let algECDSA: TPM2_ALG_ID = 0x0018
    static let algECC: TPM2_ALG_ID = 0x0023
    static let algCFB: TPM2_ALG_ID = 0x0043
    static let eccNISTP256: TPM2_ECC_CURVE = 0x0003

    // Object attributes (TPMA_OBJECT).
    static let fixedTPM: TPMA_OBJECT = 0x0000_0002
    static let fixedParent: TPMA_OBJECT = 0x0000_0010
    static let sensitiveDataOrigin: TPMA_OBJECT = 0x0000_0020
    static let userWithAuth: TPMA_OBJECT = 0x0000_0040
    static let noDA: TPMA_OBJECT = 0x0000_0400
    static let restricted: TPMA_OBJECT = 0x0001_0000
    static let decrypt: TPMA_OBJECT = 0x0002_0000
    static let signEncrypt: TPMA_OBJECT = 0x0004_0000

    // Sessions.
    static let sessionHMAC: TPM2_SE = 0x00
    static let sessionContinue: TPMA_SESSION = 0x01
    static let sessionDecrypt: TPMA_SESSION = 0x20
    static let sessionAllAttributes: TPMA_SESSION = 0xFF

    // Tickets and hierarchies.
    static let stHashCheck: TPM2_ST = 0x8024
    static let rhNull: TPMI_RH_HIERARCHY = 0x4000_0007

    // GetCapability: the variable TPM properties (TPM2_PT_VAR group).
    static let capTPMProperties: TPM2_CAP = 0x0000_0006
    static let ptPermanent: TPM2_PT = 0x200
    static let ptLockoutCounter: TPM2_PT = 0x200 + 14
    static let ptMaxAuthFail: TPM2_PT = 0x200 + 15
    static let ptLockoutInterval: TPM2_PT = 0x200 + 16
    static let ptLockoutRecovery: TPM2_PT = 0x200 + 17
    static let permanentInLockout: UInt32 = 0x0000_0200

    // Response codes (TPM2_RC, tss2_tpm2_types.h), as `TPMResponseCode.tpmCode` reports them.
    static let rcInitialize: UInt32 = 0x100
    static let rcFormat1: UInt32 = 0x080
    static let rcAuthFail: UInt32 = 0x080 + 0x00E
    static let rcKey: UInt32 = 0x080 + 0x01C
    static let rcIntegrity: UInt32 = 0x080 + 0x01F
    static let rcBadAuth: UInt32 = 0x080 + 0x022
    static let rcBinding: UInt32 = 0x080 + 0x025
    static let rcWarning: UInt32 = 0x900
    static let rcObjectMemory: UInt32 = 0x900 + 0x002
    static let rcSessionMemory: UInt32 = 0x900 + 0x003
    static let rcLockout: UInt32 = 0x900 + 0x021

    // TSS layers and base codes (tss2_common.h).
    static let layerShift: UInt32 = 16
    static let layerTPM: UInt32 = 0
    static let layerResourceManagerTPM: UInt32 = 12

    /// The digest size of the name algorithm (SHA-256) and so the longest authValue the TPM
    /// accepts for our objects.
    static let nameAlgDigestSize = 32
}
