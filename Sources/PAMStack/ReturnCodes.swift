/// The return codes a module can hand back to libpam, by number, with the names the bracket
/// syntax of a control field uses for them (`[success=ok auth_err=die]`). libpam keeps an
/// action for each of the 32 codes; the order and spelling are libpam's (`pam_tokens.h`).
public enum ReturnCode {
    public static let names: [String] = [
        "success", "open_err", "symbol_err", "service_err", "system_err", "buf_err", "perm_denied",
        "auth_err", "cred_insufficient", "authinfo_unavail", "user_unknown", "maxtries",
        "new_authtok_reqd", "acct_expired", "session_err", "cred_unavail", "cred_expired", "cred_err",
        "no_module_data", "conv_err", "authtok_err", "authtok_recover_err", "authtok_lock_busy",
        "authtok_disable_aging", "try_again", "ignore", "abort", "authtok_expired", "module_unknown",
        "bad_item", "conv_again", "incomplete",
    ]
    public static var count: Int { names.count }

    public static let success = 0
    public static let permDenied = 6
    public static let authErr = 7
    public static let authinfoUnavail = 9
    public static let newAuthtokReqd = 12
    public static let credErr = 17
    public static let ignore = 25
    public static let moduleUnknown = 28
    public static let incomplete = 31

    /// What any module's `pam_sm_authenticate` may answer, as far as the analysis assumes.
    /// Two codes are left out, and why:
    /// - `incomplete`: libpam stops and keeps its place; the application must call
    ///   pam_authenticate again, which resumes at that module (a pam_setcred in between is
    ///   refused by libpam: "application failed to re-exec stack"). The module then answers
    ///   with another code, which is among these.
    /// - `new_authtok_reqd`: an account-management answer (pam_sm_acct_mgmt(3)): the user's
    ///   token is right but has expired. pam_sm_authenticate(3) does not list it, and no
    ///   module of Linux-PAM returns it from authentication; a module that does has checked
    ///   the token, so an offer after it does not follow a wrong password.
    public static let anyAuthentication: [Int] = (0..<count).filter { $0 != incomplete && $0 != newAuthtokReqd }

    /// What any module's `pam_sm_setcred` may answer (every code but `incomplete`).
    public static let anyCredential: [Int] = (0..<count).filter { $0 != incomplete }
}
