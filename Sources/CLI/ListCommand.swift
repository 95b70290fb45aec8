import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import JSON
import Identifiers

enum ListCommand {
    static let spec = CommandSpec(
        "list", synopsis: "[USER] [--json]",
        summary: "List the passkeys in the registry: USER's, or every user's.",
        details: [
            "Times are UTC. A user without passkeys, and a name with no account, both have none: the registry does not tell them apart.",
            "WRONG PINS is what this host's authenticator counts for a passkey bound to this host: wrong PINs in a row so far, of the pin_max_attempts that lock it (\"5 of 5, locked\"); - for a passkey elsewhere. Reading it changes nothing (passkeyctl unlock resets it). Another user's counts need root.",
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
        // This host's wrong-PIN counts, for the users who have a passkey here; a count that
        // cannot be read is "?" and one warning says why.
        var pins: [String: PINStates] = [:]
        var unknown: [String] = []
        var reasons: [String] = []
        for r in records {
            switch PINStates.read(r, site: site) {
            case .success(let p)?: pins[r.user] = p
            case .failure(let e)?: unknown.append(r.user); reasons.append(e.text)
            case nil: break
            }
        }
        // One line, however many users: listing everyone as a user must not print one per user.
        if let first = reasons.first {
            Output.warning(reasons.count == 1 ? first : "\(first) (and \(reasons.count - 1) more users' counts, shown as ?)")
        }
        func pinCell(_ r: UserRecord, _ c: CredentialRecord) -> String {
            if let p = pins[r.user] { return p.cell(c) }
            return unknown.contains(r.user) && !c.revoked && c.hostID == site.host.hostID ? "?" : "-"
        }
        func row(_ r: UserRecord, _ c: CredentialRecord) -> [String] {
            var row = c.tableRow
            row.insert(pinCell(r, c), at: row.count - 1)
            return row
        }
        let header: [String] = {
            var h = CredentialRecord.tableHeader
            h.insert("WRONG PINS", at: h.count - 1)
            return h
        }()
        if json {
            Output.line(JSONValue.object([
                ("format", .int(1)),
                ("registry", .string(site.registry.location)),
                ("users", .array(records.map { r in
                    .object([("user", .string(r.user)), ("credentials", .array(r.credentials.map { c in
                        guard case .object(let members) = c.json(user: r.user) else { return c.json(user: r.user) }
                        return .object(members + [("pin", pins[r.user]?.json(c) ?? .null)])
                    }))])
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
            let r = withCredentials[0]
            Output.line(table(header, r.credentials.map { row(r, $0) }))
        } else {
            let rows = withCredentials.flatMap { r in r.credentials.map { [r.user] + row(r, $0) } }
            Output.line(table(["USER"] + header, rows))
        }
    }
}
