// passkeyctl — the administrator's tool for pam_passkey: enrol, list, revoke, explain,
// unlock, status, report. Exit status: 0 success, 1 the operation failed, 2 usage error.
#if canImport(Glibc)
import Glibc
#endif

enum Commands {
    static let all: [CommandSpec] = [
        EnrollCommand.spec,
        ListCommand.spec,
        RevokeCommand.spec,
        ExplainCommand.spec,
        UnlockCommand.spec,
        StatusCommand.spec,
        ReportCommand.spec,
    ]
}

func overview() -> String {
    let commands = Commands.all
    let width = commands.map(\.name.count).max() ?? 0
    var lines = ["usage: passkeyctl COMMAND [ARGUMENTS] [--conf PATH]", "", "commands:"]
    for c in commands {
        lines.append("  \(c.name)" + String(repeating: " ", count: width - c.name.count + 2) + c.synopsis)
    }
    lines += ["", "Every command takes --conf PATH (default \(Invocation.defaultPolicyPath)) and --help.",
              "Exit status: 0 success, 1 the operation failed, 2 usage error. See passkeyctl(8)."]
    return lines.joined(separator: "\n")
}

func main(_ arguments: [String]) -> Int32 {
    guard let name = arguments.first else {
        Output.standardError(overview() + "\n")
        return 2
    }
    do throws(CLIError) {
        if ["--help", "-h", "help"].contains(name) {
            guard name == "help", arguments.count > 1 else {
                Output.line(overview())
                return 0
            }
            guard arguments.count == 2, let c = Commands.all.first(where: { $0.name == arguments[1] }) else {
                throw .usage(nil, arguments.count == 2 ? "unknown command \(printable(arguments[1]))" : "help takes one command name")
            }
            Output.line(c.help)
            return 0
        }
        guard let command = Commands.all.first(where: { $0.name == name }) else {
            throw .usage(nil, "unknown command \(printable(name))")
        }
        guard let invocation = try Invocation.parse(command, Array(arguments.dropFirst())) else {
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
