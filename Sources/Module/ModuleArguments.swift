import CPAM
import Policy

/// The arguments on a pam_passkey line of a PAM stack.
///   conf=PATH   policy file (default /etc/security/pam_passkey.conf)
///   append      this invocation is the append step (after the password module)
///   debug       log every signal behind a decision (same as `debug = yes` in the policy)
///   stack=PATH  the service file this line was read from, for applications that give libpam
///               their own directory (pam_start_confdir); the append step reads it
struct ModuleArguments: Equatable {
    static let defaultPolicyPath = Policy.systemPath

    var policyPath = ModuleArguments.defaultPolicyPath
    var isAppendStep = false
    var debug = false
    var stackPath: String? = nil
    /// All of them, as libpam passed them: the append step looks for its own line by them.
    var all: [String] = []
    /// Arguments that were not understood: logged (LOG_ERR) and otherwise ignored.
    var unknown: [String] = []

    init(_ args: [String]) {
        all = args
        for arg in args {
            if arg.hasPrefix("stack="), arg.count > 6 {
                stackPath = String(arg.dropFirst(6))
            } else if arg == "append" {
                isAppendStep = true
            } else if arg == "debug" {
                debug = true
            } else if arg.hasPrefix("conf="), arg.count > 5 {
                policyPath = String(arg.dropFirst(5))
            } else {
                unknown.append(arg)
            }
        }
    }

    init(argc: Int32, argv: PAMArgv) {
        var args: [String] = []
        if let argv {
            for i in 0..<Int(max(argc, 0)) {
                if let p = argv[i], let s = String(validatingCString: p) { args.append(s) }
            }
        }
        self.init(args)
    }
}
