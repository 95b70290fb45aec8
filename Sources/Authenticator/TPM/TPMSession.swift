import CTSS2

/// Authorization sessions. A password session would send the PIN-derived authValue to the
/// TPM in the clear, readable by anyone who can probe the bus; an HMAC session salted with the
/// storage primary (ECDH to its key) proves knowledge of it without revealing it, and encrypts
/// the first command parameter when asked (a new key's authValue in TPM2_Create).
enum TPMSession {
    /// Starts a salted, unbound HMAC session (SHA-256, AES-128-CFB parameter encryption),
    /// flushed when `connection` closes.
    static func startSalted(on connection: TPMConnection, saltKey: ESYS_TR) throws(TPMError) -> ESYS_TR {
        var symmetric = TPMT_SYM_DEF()
        symmetric.algorithm = TSS2.algAES
        symmetric.keyBits.aes = 128
        symmetric.mode.aes = TSS2.algCFB
        var session: ESYS_TR = TSS2.trNone
        try connection.check(pam_passkey_Esys_StartAuthSession(connection.context, saltKey, TSS2.trNone, TSS2.trNone, TSS2.trNone, TSS2.trNone,
                                                   nil, TSS2.sessionHMAC, &symmetric, TSS2.algSHA256, &session),
                             "TPM2_StartAuthSession")
        connection.track(session)
        return session
    }

    /// Sets the attributes for the next command. The session is always kept open by the TPM
    /// after a command (continueSession) so that closing the connection can flush it: the
    /// TPM would otherwise end it on success only, and a failed command would leave it behind.
    static func use(_ session: ESYS_TR, on connection: TPMConnection, encryptFirstParameter: Bool) throws(TPMError) {
        let attributes = TSS2.sessionContinue | (encryptFirstParameter ? TSS2.sessionDecrypt : 0)
        try connection.check(pam_passkey_Esys_TRSess_SetAttributes(connection.context, session, attributes, TSS2.sessionAllAttributes),
                             "Esys_TRSess_SetAttributes")
    }
}
