#if canImport(Glibc)
import Glibc
#endif
import Policy

/// The command line, parsed by hand against a small table: each command names its options
/// and how many operands it takes, and `--conf PATH` and `--help` are accepted by all.
/// Nothing is guessed: an unknown option, a missing value, a repeated option or a stray
/// operand is a usage error (exit 2) that says which and points at `--help`.

struct OptionSpec: Sendable {
    let name: String
    /// The placeholder for the option's value ("ID", "PATH"); nil for a flag.
    let value: String?
    let help: String

    static func flag(_ name: String, _ help: String) -> OptionSpec { OptionSpec(name: name, value: nil, help: help) }
    static func valued(_ name: String, _ value: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: value, help: help)
    }

    var usage: String { value.map { "\(name) \($0)" } ?? name }
}

struct CommandSpec: Sendable {
    let name: String
    /// What follows the command name in a synopsis: "USER [--label TEXT] [--pin-stdin]".
    let synopsis: String
    let summary: String
    /// Paragraphs printed by --help after the options.
    let details: [String]
    let options: [OptionSpec]
    /// Names of the operands, for error messages and --help; `optionalOperands` of them at
    /// the end may be left out.
    let operands: [String]
    let optionalOperands: Int
    let run: @Sendable (Invocation) throws(CLIError) -> Void

    init(_ name: String, synopsis: String, summary: String, details: [String] = [], options: [OptionSpec] = [],
         operands: [String] = [], optionalOperands: Int = 0, run: @escaping @Sendable (Invocation) throws(CLIError) -> Void) {
        self.name = name
        self.synopsis = synopsis
        self.summary = summary
        self.details = details
        self.options = options
        self.operands = operands
        self.optionalOperands = optionalOperands
        self.run = run
    }

    /// Accepted by every command.
    static let common: [OptionSpec] = [
        .valued("--conf", "PATH", "policy file (default \(Invocation.defaultPolicyPath))"),
        .flag("--help", "show this help and exit"),
    ]

    var allOptions: [OptionSpec] { options + Self.common }

    var help: String {
        var lines = ["usage: passkeyctl \(name) \(synopsis) [--conf PATH]", "", wrapped(summary), "", "options:"]
        let width = allOptions.map(\.usage.count).max() ?? 0
        for o in allOptions {
            lines.append("  " + o.usage + String(repeating: " ", count: width - o.usage.count + 2) + o.help)
        }
        for d in details { lines += ["", wrapped(d)] }
        return lines.joined(separator: "\n")
    }
}

/// One parsed command line.
struct Invocation {
    static let defaultPolicyPath = Policy.systemPath

    let command: CommandSpec
    let operands: [String]
    private let values: [String: String]
    private let flags: Set<String>

    var policyPath: String { values["--conf"] ?? Self.defaultPolicyPath }

    func value(_ option: String) -> String? { values[option] }
    func flag(_ option: String) -> Bool { flags.contains(option) }
    var json: Bool { flag("--json") }

    /// `--help` yields nil: the caller prints the help instead of running anything.
    static func parse(_ command: CommandSpec, _ arguments: [String]) throws(CLIError) -> Invocation? {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var operands: [String] = []
        var rest = arguments[...]
        var onlyOperands = false
        while let arg = rest.popFirst() {
            if onlyOperands || arg == "-" || !arg.hasPrefix("-") {
                operands.append(arg)
                continue
            }
            if arg == "--" {
                onlyOperands = true
                continue
            }
            if arg == "-h" || arg == "--help" { return nil }
            // --name=value as well as --name value.
            let (name, inline) = arg.firstIndex(of: "=").map { (String(arg[..<$0]), String(arg[arg.index(after: $0)...])) }
                ?? (arg, nil)
            guard let spec = command.allOptions.first(where: { $0.name == name }) else {
                throw .usage(command.name, "unknown option \(printable(name))")
            }
            guard values[name] == nil && !flags.contains(name) else {
                throw .usage(command.name, "\(name) is given more than once")
            }
            if let placeholder = spec.value {
                guard let value = inline ?? rest.popFirst() else { throw .usage(command.name, "\(name) needs a value (\(placeholder))") }
                guard !value.isEmpty else { throw .usage(command.name, "\(name) needs a value (\(placeholder)), not an empty one") }
                values[name] = value
            } else {
                guard inline == nil else { throw .usage(command.name, "\(name) takes no value") }
                flags.insert(name)
            }
        }
        let most = command.operands.count
        let least = most - command.optionalOperands
        if operands.count < least {
            throw .usage(command.name, "missing \(command.operands[operands.count])")
        }
        if operands.count > most {
            throw .usage(command.name, "unexpected argument \(printable(operands[most]))")
        }
        if let conf = values["--conf"], !conf.hasPrefix("/") {
            throw .usage(command.name, "--conf needs an absolute path, not \(printable(conf))")
        }
        return Invocation(command: command, operands: operands, values: values, flags: flags)
    }
}

extension Invocation {
    /// A policy file named with --conf must be there: a typo must not quietly mean the
    /// defaults (the system policy, when it is missing, does mean the defaults, as in the
    /// module). Only whether it exists and may be read is checked here; Site.load and
    /// status check it as the module does (no symbolic link, root's, not writable by others).
    func checkPolicyFileGiven() throws(CLIError) {
        guard let path = values["--conf"] else { return }
        var st = stat()
        guard stat(path, &st) == 0 else {
            let reason = errno == ENOENT ? "does not exist" : "cannot be read: \(String(cString: strerror(errno)))"
            throw .failed("policy file \(printable(path)) given with --conf \(reason)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .failed("policy file \(printable(path)) given with --conf is not a regular file")
        }
        guard access(path, R_OK) == 0 else {
            throw .failed("policy file \(printable(path)) given with --conf cannot be read: \(String(cString: strerror(errno)))")
        }
    }
}

/// A paragraph broken between words to fit a terminal.
func wrapped(_ text: String, width: Int = 78) -> String {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && line.count + 1 + word.count > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines.joined(separator: "\n")
}
