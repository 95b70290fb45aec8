#if canImport(Glibc)
import Glibc
#endif
import CTSS2

/// One ESAPI context over one TCTI, alive for the body of `TPMConnection.open` only. Every
/// transient object and session made through it is flushed when the body ends, however it
/// ends, and then the context and the TCTI are finalized. Without a resource manager (swtpm,
/// /dev/tpm0) a handle left behind holds one of the TPM's few object slots — three in swtpm —
/// until the TPM restarts, and the next login would fail with "out of memory for objects".
///
/// A connection lasts one TPM operation, never a PIN prompt: /dev/tpm0 and swtpm serve one
/// client at a time, and a person may take minutes to type.
final class TPMConnection {
    let tcti: String
    let context: OpaquePointer
    private var tctiContext: OpaquePointer?
    private var transients: [ESYS_TR] = []

    private init(tcti: String, context: OpaquePointer, tctiContext: OpaquePointer) {
        self.tcti = tcti
        self.context = context
        self.tctiContext = tctiContext
    }

    /// Connects to the TPM that `tcti` names (Tss2_TctiLdr_Initialize syntax, e.g.
    /// `device:/dev/tpmrm0`, `swtpm:path=/run/swtpm.sock`) and runs `body` with it.
    static func open<R>(tcti: String, _ body: (TPMConnection) throws(TPMError) -> R) throws(TPMError) -> R {
        quietLibraryLogging()
        var tctiContext: OpaquePointer? = nil
        let loaded = tcti.withCString { pam_passkey_Tss2_TctiLdr_Initialize($0, &tctiContext) }
        guard loaded == 0, let tctiContext else { throw .transport(tcti: tcti, TPMResponseCode(raw: loaded)) }
        var esys: OpaquePointer? = nil
        let initialized = pam_passkey_Esys_Initialize(&esys, tctiContext, nil)
        guard initialized == 0, let esys else {
            var t: OpaquePointer? = tctiContext
            pam_passkey_Tss2_TctiLdr_Finalize(&t)
            throw .transport(tcti: tcti, TPMResponseCode(raw: initialized))
        }
        let connection = TPMConnection(tcti: tcti, context: esys, tctiContext: tctiContext)
        defer { connection.close() }
        return try body(connection)
    }

    /// Registers a transient object or session for flushing when the connection closes.
    func track(_ handle: ESYS_TR) {
        transients.append(handle)
    }

    /// Flushes a handle now (frees its slot for the next object) instead of at close.
    func flush(_ handle: ESYS_TR) {
        guard let i = transients.lastIndex(of: handle) else { return }
        transients.remove(at: i)
        _ = pam_passkey_Esys_FlushContext(context, handle)
    }

    /// Throws `.command(name, rc)` unless rc is success.
    func check(_ rc: TSS2_RC, _ name: String) throws(TPMError) {
        if rc != 0 { throw .command(name, TPMResponseCode(raw: rc)) }
    }

    private func close() {
        // Newest first: sessions salted with the primary go before it.
        for handle in transients.reversed() { _ = pam_passkey_Esys_FlushContext(context, handle) }
        transients.removeAll()
        var esys: OpaquePointer? = context
        pam_passkey_Esys_Finalize(&esys)
        pam_passkey_Tss2_TctiLdr_Finalize(&tctiContext)
    }

    /// libtss2 writes every failed command to stderr ("ERROR:esys:..."), wrong PINs included.
    /// The helper reports failures itself, through syslog; an administrator who wants the
    /// library's trace sets TSS2_LOG when running the helper as root.
    private static func quietLibraryLogging() {
        if getenv("TSS2_LOG") == nil { setenv("TSS2_LOG", "all+none", 1) }
    }
}
