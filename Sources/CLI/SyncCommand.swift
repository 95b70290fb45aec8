import Policy
import Registry
import Wiring
import JSON

enum SyncCommand {
    static let spec = CommandSpec(
        "sync", synopsis: "[--json]",
        summary: "With registry = ldap: send the writes this host has queued to the directory (sign counts, enrollments, revocations, offers), then refresh the cache of every user the directory has.",
        details: [
            "The module and the helper queue what the directory does not take at once (it was down or slow) and send it at the next login that reaches it; this sends it now. Run it from a timer on hosts that sign few people in. It waits up to 60 seconds, or registry_timeout if longer.",
        ],
        options: [.flag("--json", "print what was done as JSON")],
        run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        try inv.requireRoot()
        let site = try inv.site()
        guard site.policy[.registry] == .ldap else {
            throw .failed("registry = files in \(inv.policyPath): there is no directory to sync with (see registry = ldap in pam_passkey.conf(5))")
        }
        let queue = WriteQueue(stateDirectory: site.policy[.stateDir])
        let before = queue.count()
        let program = DirectoryProgram(program: site.policy[.directoryProgram], policyPath: inv.policyPath,
                                       timeoutSeconds: max(60, site.policy[.registryTimeout]))
        let outcome = program.run(["sync"])
        let after = queue.count()
        guard outcome.succeeded else {
            throw .failed("the directory \(site.policy[.ldapURI]) could not be synced: \(outcome.message); \(after) writes stay queued")
        }
        if inv.json {
            Output.line(JSONValue.object([("format", .int(1)), ("directory", .string(site.policy[.ldapURI])),
                                          ("queued_before", .int(Int64(before))), ("queued", .int(Int64(after))),
                                          ("message", .string(outcome.message))]).render())
        } else {
            Output.line("\(site.policy[.ldapURI]): \(outcome.message)" + (after > 0 ? "; \(after) writes still queued" : ""))
        }
    }
}
