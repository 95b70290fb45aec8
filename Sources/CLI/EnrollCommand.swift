import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import WebAuthn
import JSON
import Wording
import Identifiers

enum EnrollCommand {
    static let spec = CommandSpec(
        "enroll", synopsis: "USER [--security-key] [--label TEXT] [--pin-stdin] [--replace] [--json]",
        summary: "Create a passkey for USER on this host's authenticator and register it. The PIN is typed at the terminal, or read from standard input with --pin-stdin.",
        details: [
            "With --pin-stdin, standard input gives the PIN on one line and the same PIN again on the next; a PIN the authenticator refuses (too short, too simple, not matching) fails the command instead of asking again.",
            "A user who already has an active passkey on this host keeps it unless --replace is given: the new passkey is then registered, the old one revoked and deleted from this host's authenticator.",
            "With --security-key the passkey is made on the FIDO2 security key plugged in (security_keys in the policy says where keys are looked for): the key's PIN is asked (a key without a PIN gets one first, asked twice), then the key is touched. That passkey signs in on every host the key is plugged into that shares the registry.",
        ],
        options: [
            .valued("--label", "TEXT", "a name for the passkey, shown by list"),
            .flag("--pin-stdin", "read the PIN and its confirmation from standard input"),
            .flag("--replace", "replace USER's active passkey on this host"),
            .flag("--security-key", "make the passkey on the security key plugged in, not on this host's authenticator"),
            .flag("--json", "print the new credential as JSON"),
        ],
        operands: ["USER"], run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let user = try userName(inv.operands[0], command: "enroll")
        let label = try inv.label(command: "enroll")
        try inv.requireRoot()
        let site = try inv.site()
        try requireAccount(user)

        let onKey = inv.flag("--security-key")
        if onKey && inv.flag("--replace") {
            throw .usage("enroll", "--replace replaces this host's passkey; a security key's passkey is revoked with passkeyctl revoke")
        }
        // Everything that can be checked before anyone chooses a PIN is checked first.
        let record = try site.record(of: user)
        let held = onKey ? [] : try site.held(by: user)
        let heldIDs = Set(held.map(\.id))
        let probed = AuthenticatorSignal.healthy(holding: held.map { HeldCredentialSignal(id: $0.id, locked: $0.locked) })
        let here = onKey ? [] : record.activeCredentials.filter {
            $0.kind == .platform
                && CredentialStatus(of: CredentialSignal(record: $0), hostID: site.host.hostID, authenticator: probed).isThisHosts
        }
        if !here.isEmpty && !inv.flag("--replace") {
            let ids = here.map { $0.id.short }.joined(separator: ", ")
            if here.allSatisfy({ !heldIDs.contains($0.id) }) {
                throw .failed("\(user) has a passkey registered for this host (\(ids)) that its authenticator no longer holds; enroll again with --replace to replace it")
            }
            throw .failed("\(user) already has a passkey on this host (\(ids)); use passkeyctl unlock \(user) for a locked one, or enroll again with --replace")
        }

        let entry: PINEntry
        if inv.flag("--pin-stdin") {
            entry = PINEntry(source: .standardInput)
        } else {
            guard let terminal = Terminal.open() else {
                throw .failed("there is no terminal to ask for the PIN; give it on standard input with --pin-stdin")
            }
            terminal.write(onKey ? "Creating a passkey for \(user) on the security key plugged in.\n"
                                 : "Creating a passkey for \(user) on \(site.host.hostName).\n")
            entry = PINEntry(source: .terminal(terminal))
        }

        switch site.relyingParty.register(user: user, replacing: here, heldIDs: heldIDs, label: label,
                                          target: onKey ? .securityKey : .host, ui: entry) {
        case .created(let credential, let computers):
            if inv.json {
                Output.line(JSONValue.object([
                    ("format", .int(1)),
                    ("credential", credential.json(user: user.rawValue)),
                    ("replaced", .array(here.map { .string($0.id.text) })),
                    ("hosts_with_passkeys", .int(computers)),
                ]).render())
            } else {
                Output.line(onKey ? "Created a passkey for \(user) on the security key (registered on \(credential.hostName))."
                                  : "Created a passkey for \(user) on \(credential.hostName).")
                Output.line("  id       \(credential.id)")
                Output.line("  host     \(credential.hostName)")
                Output.line("  created  \(utcText(credential.created.time))")
                if !credential.label.isEmpty { Output.line("  label    \(credential.label)") }
                for old in here { Output.line("  replaces \(old.id) (revoked)") }
                Output.line("\(user) now has passkeys on \(computers) \(computers == 1 ? "host" : "hosts").")
            }
        case .cancelled:
            if let refusal = entry.refusal {
                throw .failed("the PIN was refused: \(refusal.lowercasingFirst.trimmingSuffix(".")); no passkey was created for \(user)")
            }
            if inv.flag("--pin-stdin") && entry.unanswered == Wording.confirmPIN {
                throw .failed("standard input ended before the PIN was confirmed, so no passkey was created for \(user); give the same PIN again on a second line")
            }
            throw .failed("no PIN was given, so no passkey was created for \(user); run the command again and choose a PIN")
        case .failed(let why):
            throw .failed("no passkey was created for \(user): \(why); run passkeyctl status")
        }
    }
}

extension Invocation {
    /// `--label TEXT`: one line of text ("" when not given).
    func label(command: String) throws(CLIError) -> String {
        let label = value("--label") ?? ""
        if label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .usage(command, "--label must be one line of text without control characters")
        }
        return label
    }
}

/// A passkey is made only for an account this host knows.
func requireAccount(_ user: UserName) throws(CLIError) {
    guard SystemAccountLookup().uid(of: user) != nil else {
        throw .failed("there is no account named \(user) on this host; create the account first (useradd, or your directory service)")
    }
}

extension String {
    var lowercasingFirst: String { first.map { $0.lowercased() + dropFirst() } ?? self }
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
