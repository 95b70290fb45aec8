import CPAM
import Storage

// The PAM service-module entry points: the only symbols pam_passkey.so exports
// (Sources/Module/exports.map). Each one hands over to Swift code that never throws past
// this boundary and never returns PAM_SUCCESS on an error path.

public typealias PAMArgv = UnsafeMutablePointer<UnsafePointer<CChar>?>?

/// Without `append`: the login step (passkey login, or step aside). With `append`: nothing
/// here — the offer waits for pam_setcred. Applications should call it only after the whole
/// auth stack succeeded; the append step does not rely on that, it checks that its stack
/// cannot reach it after a failure (Sources/PAMStack).
@_cdecl("pam_sm_authenticate")
public func pam_sm_authenticate(_ pamh: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: PAMArgv) -> Int32 {
    guard let pamh else { return PAM_SERVICE_ERR }
    let call = ModuleCall(handle: PAMHandle(raw: pamh, flags: flags), arguments: ModuleArguments(argc: argc, argv: argv))
    if call.arguments.isAppendStep { return PAM_IGNORE }
    // The policy file, host id, registry and history share their parent directories.
    return SecureDirectory.sharingWalks { LoginStep(call: call).run() }
}

/// With `append`: after a password login, offer to create (or replace) this host's passkey.
/// Never fails the login: always PAM_IGNORE.
@_cdecl("pam_sm_setcred")
public func pam_sm_setcred(_ pamh: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: PAMArgv) -> Int32 {
    guard let pamh else { return PAM_IGNORE }
    let call = ModuleCall(handle: PAMHandle(raw: pamh, flags: flags), arguments: ModuleArguments(argc: argc, argv: argv))
    if call.arguments.isAppendStep { SecureDirectory.sharingWalks { AppendStep(call: call).run() } }
    return PAM_IGNORE
}

@_cdecl("pam_sm_acct_mgmt")
public func pam_sm_acct_mgmt(_ pamh: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: PAMArgv) -> Int32 {
    PAM_IGNORE
}
