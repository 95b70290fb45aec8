// passkeyctl — the administrator's tool for pam_passkey: enroll, list, revoke, explain,
// unlock, status, report, sync, registry. Exit status: 0 success, 1 the operation failed, 2 usage error.
#if canImport(Glibc)
import Glibc
#endif

enum Commands {
    static let all: [CommandSpec] = [
        EnrollCommand.spec,
        ImportCommand.spec,
        ListCommand.spec,
        RevokeCommand.spec,
        ExplainCommand.spec,
        UnlockCommand.spec,
        StatusCommand.spec,
        ReportCommand.spec,
        SyncCommand.spec,
        RegistryCommand.spec,
    ]
}

func overview() -> String {
    let commands = Commands.all
    let width = commands.map(\.name.count).max() ?? 0
    var lines = ["usage: passkeyctl COMMAND [ARGUMENTS] [--conf PATH] [--json]",
                 "       passkeyctl [--conf PATH] [--json] COMMAND [ARGUMENTS]",
                 "       passkeyctl --version", "", "commands:"]
    for c in commands {
        lines.append("  \(c.name)" + String(repeating: " ", count: width - c.name.count + 2) + c.synopsis)
    }
    lines += ["", "Every command takes --conf PATH (default \(Invocation.defaultPolicyPath)), --json and --help;",
              "--conf and --json may also come before the command.",
              "Exit status: 0 success, 1 the operation failed, 2 usage error. See passkeyctl(8)."]
    return lines.joined(separator: "\n")
}

/// The options that may come before the command name, as with git and systemctl; they are
/// handed to the command as if they followed it, so a repeated one is still an error.
enum GlobalOptions {
    static let valued: Set<String> = ["--conf"]
    static let flags: Set<String> = ["--json"]

    /// Splits `[GLOBAL OPTIONS] COMMAND ARGUMENTS`; nil for the command when there is none.
    static func split(_ arguments: [String]) throws(CLIError) -> (leading: [String], command: String?, rest: [String]) {
        var leading: [String] = []
        var rest = arguments[...]
        while let arg = rest.first, arg.hasPrefix("-"), arg != "-" {
            let name = arg.firstIndex(of: "=").map { String(arg[..<$0]) } ?? arg
            if ["--help", "-h", "--version"].contains(arg) { return (leading, arg, Array(rest.dropFirst())) }
            rest = rest.dropFirst()
            if valued.contains(name) {
                leading.append(arg)
                if name == arg {
                    guard let value = rest.popFirst() else { throw .usage(nil, "\(name) needs a value (PATH)") }
                    leading.append(value)
                }
            } else if flags.contains(name) {
                leading.append(arg)
            } else {
                throw .usage(nil, "unknown option \(printable(name)) before the command (only --conf, --json, --help and --version may come first)")
            }
        }
        return (leading, rest.first, Array(rest.dropFirst()))
    }
}

func main(_ arguments: [String]) -> Int32 {
    do throws(CLIError) {
        let (leading, first, rest) = try GlobalOptions.split(arguments)
        guard let name = first else {
            if leading.isEmpty {
                Output.standardError(overview() + "\n")
                return 2
            }
            throw .usage(nil, "missing COMMAND after \(leading.joined(separator: " "))")
        }
        if name == "--version" {
            guard leading.isEmpty, rest.isEmpty else { throw .usage(nil, "--version takes no other arguments") }
            Output.line("passkeyctl \(packageVersion)")
            return 0
        }
        if ["--help", "-h", "help"].contains(name) {
            guard name == "help", !rest.isEmpty else {
                Output.line(overview())
                return 0
            }
            guard rest.count == 1, let c = Commands.all.first(where: { $0.name == rest[0] }) else {
                throw .usage(nil, rest.count == 1 ? "unknown command \(printable(rest[0]))" : "help takes one command name")
            }
            Output.line(c.help)
            return 0
        }
        guard let command = Commands.all.first(where: { $0.name == name }) else {
            throw .usage(nil, "unknown command \(printable(name))")
        }
        guard let invocation = try Invocation.parse(command, leading + rest) else {
            Output.line(command.help)
            return 0
        }
        try command.run(invocation)
        return 0
    } catch {
        Output.error(error.message)
        return error.exitCode
    }
}

// Some of what is printed is long (JSON, tables): a reader that goes away (`| head`) ends
// the program quietly through EPIPE rather than a signal in the middle of a write.
signal(SIGPIPE, SIG_IGN)
exit(main(Array(CommandLine.arguments.dropFirst())))
