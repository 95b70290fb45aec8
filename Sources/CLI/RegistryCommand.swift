import JSON
import Policy
import Wiring

/// Moves a files registry into the directory (export) and back (import), through
/// pam_passkey_directory: the only program that talks to the directory.
enum RegistryCommand {
    static let spec = CommandSpec(
        "registry", synopsis: "export|import [--dir DIR] [--bind-dn DN --password-file FILE] [--json]",
        summary: "Copy a files registry into the directory (export), or every record the directory has into a files registry (import), losing nothing: each credential, with its counter, state and attestation, and each user's offer log, in their order.",
        details: [
            "export reads DIR (default: registry_dir) and writes into ldap_uri under ldap_base. A user the directory already has gets the credentials and offers it lacks; what is there already is left as it is. import writes into DIR (default: registry_dir) the users it does not have yet, and leaves alone those it has with the same record; a user whose file differs is refused and named. Both can be run again after an interruption to finish.",
            "Both work whatever registry says, so a fleet can export before it sets registry = ldap, and import before it goes back to registry = files. They bind as the policy says, or, with --bind-dn and --password-file, as an administrator: the shipped access rules let a host create only credentials bound to itself. The password file must be root's and no one else's (mode 0600).",
            "The exit status is 1 when the directory could not be used or a user was refused; what was copied stays copied.",
        ],
        options: [
            .valued("--dir", "DIR", "the files registry to read (export) or to write (import); default registry_dir"),
            .valued("--bind-dn", "DN", "bind as this administrator instead of as this host"),
            .valued("--password-file", "FILE", "the administrator's password (with --bind-dn)"),
            .flag("--json", "print what was done as JSON"),
        ],
        operands: ["export|import"], run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let action = inv.operands[0]
        guard action == "export" || action == "import" else {
            throw .usage("registry", "unknown action \(printable(action)): export or import")
        }
        let bindDN = inv.value("--bind-dn")
        let passwordFile = inv.value("--password-file")
        guard (bindDN == nil) == (passwordFile == nil) else {
            throw .usage("registry", "--bind-dn and --password-file go together")
        }
        if let passwordFile, !passwordFile.hasPrefix("/") {
            throw .usage("registry", "--password-file needs an absolute path, not \(printable(passwordFile))")
        }
        if let dir = inv.value("--dir"), !dir.hasPrefix("/") {
            throw .usage("registry", "--dir needs an absolute path, not \(printable(dir))")
        }
        try inv.requireRoot()
        let site = try inv.site()
        let policy = site.policy
        for key in [PolicyKey.ldapURI, PolicyKey.ldapBase] where policy[key].isEmpty {
            throw .failed("\(key.name) is not set in \(inv.policyPath): registry \(action) needs the directory it copies \(action == "export" ? "into" : "from")")
        }
        let dir = inv.value("--dir") ?? policy[.registryDir]
        var command = [action, dir]
        if let bindDN, let passwordFile { command += ["--bind-dn", bindDN, "--password-file", passwordFile] }
        // An administrator's one-off copy: no login waits for it. Each directory operation
        // is still bounded by registry_timeout inside the program.
        let program = DirectoryProgram(program: policy[.directoryProgram], policyPath: inv.policyPath, timeoutSeconds: 3600)
        let outcome = program.run(command)
        guard outcome.succeeded else { throw .failed(outcome.message) }
        if inv.json {
            Output.line(JSONValue.object([("format", .int(1)), ("action", .string(action)), ("registry_dir", .string(dir)),
                                          ("directory", .string(policy[.ldapURI])), ("base", .string(policy[.ldapBase])),
                                          ("message", .string(outcome.message))]).render())
        } else {
            Output.line(outcome.message)
        }
    }
}
