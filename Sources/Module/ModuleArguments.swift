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
            // Compared as bytes: libpam hands over bytes, and Character-wise String
            // operations (hasPrefix, count, dropFirst) run the grapheme-breaking machinery on
            // every path, a tenth of a fresh step-aside's instructions.
            if let path = Self.value(of: arg, after: "stack=") {
                stackPath = path
            } else if arg == "append" {
                isAppendStep = true
            } else if arg == "debug" {
                debug = true
            } else if let path = Self.value(of: arg, after: "conf=") {
                policyPath = path
            } else {
                unknown.append(arg)
            }
        }
    }

    /// What follows `name` (e.g. "conf=") in `arg`, when that is not empty.
    private static func value(of arg: String, after name: String) -> String? {
        let bytes = arg.utf8
        guard bytes.count > name.utf8.count, bytes.starts(with: name.utf8) else { return nil }
        return String(Substring(bytes.dropFirst(name.utf8.count)))
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
