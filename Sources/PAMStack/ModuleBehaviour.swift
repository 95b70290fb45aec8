#if canImport(Glibc)
import Glibc
#endif

/// What a line's module can answer, as far as the analysis may assume. Any module may answer
/// anything (`ReturnCode.anyAuthentication`), except the few whose answers are known from
/// their source.
public struct ModuleBehaviour: Sendable, Equatable {
    /// What its pam_sm_authenticate can return.
    public let authentication: [Int]
    /// What its pam_sm_setcred can return.
    public let credential: [Int]

    public static let unknown = ModuleBehaviour(authentication: ReturnCode.anyAuthentication, credential: ReturnCode.anyCredential)
}

/// The modules whose answers are known, and whether a line's module file exists (libpam
/// calls a missing one `module_unknown`).
public struct ModuleCatalog: Sendable {
    let exists: @Sendable (String) -> Bool

    /// `exists` says whether the module a line names (a path, or a name in libpam's module
    /// directory) is there.
    public init(exists: @escaping @Sendable (String) -> Bool) { self.exists = exists }

    /// Module files looked up as libpam looks them up.
    public static let system = ModuleCatalog { ModuleFiles.resolve($0) != nil }

    public func behaviour(of call: AuthChain.Call) -> ModuleBehaviour {
        if call.alwaysFails { return ModuleBehaviour(authentication: [ReturnCode.permDenied], credential: [ReturnCode.permDenied]) }
        guard let module = call.module, exists(module) else {
            return ModuleBehaviour(authentication: [ReturnCode.moduleUnknown], credential: [ReturnCode.moduleUnknown])
        }
        switch call.moduleName {
        case "pam_passkey.so":
            // Sources/Module/EntryPoints.swift: the append line's pam_sm_authenticate and every
            // pam_sm_setcred return PAM_IGNORE; the login line answers as any module might.
            let ignore = [ReturnCode.ignore]
            return ModuleBehaviour(authentication: call.isAppendStep ? ignore : ReturnCode.anyAuthentication, credential: ignore)
        case "pam_permit.so":
            // Succeeds once it has a user name; every stack has asked for one by the time it is reached.
            return ModuleBehaviour(authentication: [ReturnCode.success], credential: [ReturnCode.success])
        case "pam_deny.so":
            return ModuleBehaviour(authentication: [ReturnCode.authErr], credential: [ReturnCode.credErr])
        case "pam_unix.so":
            // modules/pam_unix/pam_unix_auth.c never declines: it answers with the user's
            // password check (or why it could not make one), never PAM_IGNORE.
            return ModuleBehaviour(authentication: ReturnCode.anyAuthentication.filter { $0 != ReturnCode.ignore },
                                   credential: ReturnCode.anyCredential)
        default:
            return .unknown
        }
    }
}

/// Where libpam finds a module named without a path.
public enum ModuleFiles {
    public static var directories: [String] {
        #if arch(x86_64)
        let triplet = "x86_64-linux-gnu"
        #elseif arch(arm64)
        let triplet = "aarch64-linux-gnu"
        #else
        let triplet = ""
        #endif
        var dirs = ["/lib/security", "/usr/lib/security", "/lib64/security", "/usr/lib64/security"]
        if !triplet.isEmpty { dirs = ["/lib/\(triplet)/security", "/usr/lib/\(triplet)/security"] + dirs }
        return dirs
    }

    /// The file a line's module resolves to, or nil when there is none.
    public static func resolve(_ module: String) -> String? {
        let candidates = module.hasPrefix("/") ? [module] : directories.map { $0 + "/" + module }
        var st = stat()
        return candidates.first { stat($0, &st) == 0 && st.st_mode & S_IFMT == S_IFREG }
    }
}
