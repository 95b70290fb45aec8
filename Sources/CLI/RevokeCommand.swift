import HelperProtocol
import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import WebAuthn
import JSON
import Identifiers

enum RevokeCommand {
    static let spec = CommandSpec(
        "revoke", synopsis: "USER (--credential ID | --host NAME | --all) [--json]",
        summary: "Mark passkeys of USER revoked in the registry, on every host sharing it, and delete them from this host's authenticator when it holds them.",
        details: [
            "--credential takes a credential id as list prints it, or enough of its beginning to name one credential. --host takes the host name list prints (for the passkeys of a lost or stolen computer).",
            "A revoked passkey stays in the registry, marked, and is never used again. Revoking one that is already revoked changes nothing in the registry and deletes it from this host's authenticator if it is still there.",
        ],
        options: [
            .valued("--credential", "ID", "the credential to revoke"),
            .valued("--host", "NAME", "revoke USER's passkeys created on host NAME"),
            .flag("--all", "revoke all of USER's passkeys"),
            .flag("--json", "print what was done as JSON"),
        ],
        operands: ["USER"], run: run)

    enum Selector {
        case credential(String)
        case host(String)
        case all
    }

    static func run(_ inv: Invocation) throws(CLIError) {
        let user = try userName(inv.operands[0], command: "revoke")
        let given: [Selector] = [inv.value("--credential").map { .credential($0) }, inv.value("--host").map { .host($0) },
                                 inv.flag("--all") ? .all : nil].compactMap { $0 }
        guard given.count == 1, let selector = given.first else {
            throw .usage("revoke", given.isEmpty ? "say which passkeys to revoke: --credential ID, --host NAME or --all"
                                                 : "give only one of --credential, --host and --all")
        }
        try inv.requireRoot()
        let site = try inv.site()

        let time = site.relyingParty.now()
        let by = "passkeyctl by \(administratorName()) on \(site.host.hostName)"
        // Chosen and revoked under the record's lock, so a concurrent login or enrollment on
        // another host cannot slip between the choice and the change.
        let chosen: [(credential: CredentialRecord, wasActive: Bool)]
        do {
            chosen = try site.registry.revoke(user: user, at: time, by: by) { (record: UserRecord) throws(CLIError) in
                try select(selector, from: record, user: user)
            }
        } catch let e as CLIError {
            throw e
        } catch {
            throw .failed("cannot update the passkey registry: \(error)")
        }

        // The registry is what logins read, so the passkeys are revoked now. Deleting the keys
        // here is cleanup; when the authenticator cannot be asked, only a credential made on
        // this host makes that a failure.
        var deleted: Set<CredentialID> = []
        var problem: String?
        do throws(CLIError) {
            let held = Set(try site.held(by: user).map(\.id))
            for (c, _) in chosen where held.contains(c.id) {
                do {
                    switch try site.relyingParty.helper.perform(.deleteCredential(user: user, credentialID: c.id), answer: { _ in nil }) {
                    case .done: deleted.insert(c.id)
                    case .failure(let f): problem = "the authenticator refused to delete \(c.id.short): \(f)"
                    default: problem = "the helper sent an unexpected reply to deleteCredential"
                    }
                } catch {
                    problem = "\(error)"
                }
            }
        } catch {
            if chosen.contains(where: { $0.credential.hostID == site.host.hostID }) { problem = error.message }
        }

        if inv.json {
            Output.line(JSONValue.object([
                ("format", .int(1)),
                ("user", .string(user.rawValue)),
                ("credentials", .array(chosen.map { c, wasActive in
                    .object([("id", .string(c.id.text)), ("host_name", .string(c.hostName)),
                             ("revoked_now", .bool(wasActive)), ("deleted_here", .bool(deleted.contains(c.id)))])
                })),
            ]).render())
        } else {
            for (c, wasActive) in chosen {
                var line = (wasActive ? "Revoked " : "Already revoked: ") + "\(c.id) (\(user) on \(c.hostName))"
                if deleted.contains(c.id) { line += "; deleted from this host's authenticator" }
                Output.line(line + ".")
            }
        }
        if let problem {
            throw .failed("revoked in the registry, but the key could not be deleted from this host's authenticator: \(problem); run passkeyctl status, then passkeyctl revoke again")
        }
    }

    static func select(_ selector: Selector, from record: UserRecord, user: UserName) throws(CLIError) -> [CredentialRecord] {
        guard !record.credentials.isEmpty else {
            throw .failed("\(user) has no passkeys in the registry, so there is nothing to revoke; see passkeyctl list")
        }
        switch selector {
        case .all:
            // Another system's credentials (FreeIPA's) are removed there, not here.
            let own = record.credentials.filter { !$0.isForeign }
            if own.isEmpty, let foreign = record.credentials.first { throw foreignCredential(foreign, user: user) }
            return own
        case .host(let name):
            let onHost = record.credentials.filter { $0.kind == .platform && $0.hostName == name }
            guard !onHost.isEmpty else {
                throw .failed("\(user) has no passkey on host \(printable(name)); see passkeyctl list \(user)")
            }
            return onHost
        case .credential(let id):
            if let exact = (try? CredentialID(base64url: id)).flatMap(record.credential(id:)) {
                if exact.isForeign { throw foreignCredential(exact, user: user) }
                return [exact]
            }
            let matches = record.credentials.filter { $0.id.text.hasPrefix(id) }
            if matches.count == 1, matches[0].isForeign { throw foreignCredential(matches[0], user: user) }
            guard matches.count == 1 else {
                if matches.isEmpty {
                    throw .failed("no credential \(printable(CredentialID.shortened(id))) for \(user); see passkeyctl list \(user)")
                }
                throw .failed("\(printable(id)) is the beginning of \(matches.count) credentials of \(user); give more of the id (see passkeyctl list \(user))")
            }
            return matches
        }
    }

    /// A credential another system owns cannot be revoked here: pam_passkey never writes
    /// FreeIPA's entries (and a revoked mark in this host's cache would be undone by the next
    /// refresh). The error says where it is removed.
    static func foreignCredential(_ c: CredentialRecord, user: UserName) -> CLIError {
        // As ipaPassKey writes the id: standard base64, padded.
        var standard = String(Base64URL.encode(c.id.bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return .failed("\(c.id.short) is a security key registered in FreeIPA, which pam_passkey reads but never changes; remove it there: "
                       + "ipa user-remove-passkey \(user) 'passkey:\(standard),...' with the whole value ipa user-show \(user) --all shows "
                       + "(the one that begins with passkey:\(standard.prefix(16))), and this host stops using it at its next refresh")
    }
}
