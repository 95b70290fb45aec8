import CPAM

// The PAM service-module entry points: the only symbols pam_passkey.so exports
// (Sources/Module/exports.map). Each one hands over to Swift code that never throws past
// this boundary and never returns PAM_SUCCESS on an error path.

public typealias PAMArgv = UnsafeMutablePointer<UnsafePointer<CChar>?>?

@_cdecl("pam_sm_authenticate")
public func pam_sm_authenticate(_ pamh: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: PAMArgv) -> Int32 {
    PAM_IGNORE
}

@_cdecl("pam_sm_setcred")
public func pam_sm_setcred(_ pamh: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: PAMArgv) -> Int32 {
    PAM_IGNORE
}

@_cdecl("pam_sm_acct_mgmt")
public func pam_sm_acct_mgmt(_ pamh: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: PAMArgv) -> Int32 {
    PAM_IGNORE
}
