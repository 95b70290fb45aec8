import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import JSON

enum ListCommand {
    static let spec = CommandSpec(
        "list", synopsis: "[USER] [--json]",
        summary: "List the passkeys in the registry: USER's, or every user's.",
        details: [
            "Times are UTC. A user without passkeys, and a name with no account, both have none: the registry does not tell them apart.",
            "With --json each credential also carries the registration as stored (attestation_object and client_data_json, base64url), which any WebAuthn library can verify again.",
        ],
        options: [.flag("--json", "print the credentials as JSON")],
        operands: ["USER"], optionalOperands: 1, run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let only = try inv.operands.first.map { (text) throws(CLIError) in try userName(text, command: "list") }
        let site = try inv.site()
        if let only {
            show([try site.record(of: only)], only: only, site: site, json: inv.json)
            return
        }
        let users: [UserName]
        do { users = try site.registry.users() } catch { throw .failed("cannot read the passkey registry: \(error)") }
        // One damaged record does not hide everyone else's: it is named, and the exit status says so.
        var records: [UserRecord] = []
        var unreadable: [String] = []
        for user in users {
            do { records.append(try site.registry.record(for: user)) } catch { unreadable.append("\(error)") }
        }
        show(records, only: nil, site: site, json: inv.json)
        if !unreadable.isEmpty {
            for u in unreadable { Output.warning(u) }
            let n = unreadable.count
            throw .failed("\(n) \(n == 1 ? "record could not be read and is" : "records could not be read and are") not listed; fix them as the warnings say")
        }
    }

    static func show(_ records: [UserRecord], only: UserName?, site: Site, json: Bool) {
        if json {
            Output.line(JSONValue.object([
                ("format", .int(1)),
                ("registry", .string(site.registry.location)),
                ("users", .array(records.map { r in
                    .object([("user", .string(r.user)), ("credentials", .array(r.credentials.map { $0.json(user: r.user) }))])
                })),
            ]).render())
            return
        }
        let withCredentials = records.filter { !$0.credentials.isEmpty }
        if withCredentials.isEmpty {
            Output.line(only.map { "\($0) has no passkeys." } ?? "No passkeys are registered in \(site.registry.location).")
            return
        }
        if only != nil {
            Output.line(table(CredentialRecord.tableHeader, withCredentials[0].credentials.map(\.tableRow)))
        } else {
            let rows = withCredentials.flatMap { r in r.credentials.map { [r.user] + $0.tableRow } }
            Output.line(table(["USER"] + CredentialRecord.tableHeader, rows))
        }
    }
}
