import Identifiers
#if canImport(Glibc)
import Glibc
#endif
import Policy

@_silgen_name("close_range")
private func closeRange(_ first: UInt32, _ last: UInt32, _ flags: Int32) -> Int32

/// Who started the helper and with what privileges.
struct Invocation {
    let realUID: uid_t
    let effectiveUID: uid_t

    var callerIsRoot: Bool { realUID == 0 }
    var isSetuid: Bool { realUID != effectiveUID }

    static func current() -> Invocation { Invocation(realUID: getuid(), effectiveUID: geteuid()) }

    /// Before reading anything: a setuid program inherits its caller's environment and
    /// descriptors. Drop the environment, close every descriptor but the protocol channel,
    /// keep files private, and never die of SIGPIPE half-way through a state update.
    func harden() {
        if isSetuid { clearenv() }
        // Started setuid by a user: the files it writes are root's, not the caller's group
        // (which could outlive the account), and no supplementary group of the caller's applies.
        if isSetuid && effectiveUID == 0 {
            _ = setgroups(0, nil)
            _ = setgid(0)  // with euid 0: real, effective and saved gid
        }
        setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1)
        closeExtraDescriptors()
        umask(0o077)
        signal(SIGPIPE, SIG_IGN)
        // Core dumps could hold key material. (A setuid process is also made non-dumpable by
        // the kernel.)
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
    }

    private func closeExtraDescriptors() {
        // close_range(2) where the kernel has it; otherwise walk the table.
        if closeRange(3, UInt32.max, 0) == 0 { return }
        let maxFD = Int32(clamping: sysconf(Int32(_SC_OPEN_MAX)))
        for fd in 3..<max(3, min(maxFD, 65536)) { close(fd) }
    }

    /// Whether the account named `user` is the real uid's own (the only account a caller that
    /// is not root may act for). Decided by uid, through the account database: never by
    /// comparing name text, which Swift compares by canonical equivalence while files are
    /// named by bytes ("é" and "e" + U+0301 are one String and two accounts).
    func isCallersOwnAccount(_ name: UserName) -> Bool {
        let user = name.rawValue
        guard !user.utf8.contains(0) else { return false }
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(user, &pwd, &buffer, buffer.count, &result) == 0, result != nil else { return false }
        return pwd.pw_uid == realUID
    }
}

enum HelperCommandLine: Equatable {
    case serve(policyPath: String)
    case version
    case usage(String)

    static let defaultPolicyPath = Policy.systemPath

    static func parse(_ args: [String], callerIsRoot: Bool) -> HelperCommandLine {
        var path = defaultPolicyPath
        var rest = args[...]
        while let arg = rest.popFirst() {
            switch arg {
            case "--version": return .version
            case "--conf":
                guard let p = rest.popFirst(), p.hasPrefix("/") else { return .usage("--conf needs an absolute path") }
                // A non-root caller must not pick the policy (and with it state_dir) of a
                // setuid-root program.
                guard callerIsRoot else { return .usage("--conf is accepted only from root") }
                path = p
            default:
                return .usage("usage: pam_passkey_helper [--conf PATH] [--version]  (it speaks the helper protocol on stdin/stdout)")
            }
        }
        return .serve(policyPath: path)
    }
}
