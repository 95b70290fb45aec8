import HelperProtocol
import Intelligence
import RelyingParty
import Wiring
import Storage
import WebAuthn
import JSON
import Identifiers

enum UnlockCommand {
    static let spec = CommandSpec(
        "unlock", synopsis: "USER [--json]",
        summary: "Clear the wrong-PIN count of USER's passkeys on this host's authenticator, so a passkey locked by too many wrong PINs can be used again (like faillock --reset).",
        details: [
            "Only this host's authenticator is changed. The PIN stays the same; a user who forgot it needs a new passkey instead (passkeyctl enroll USER --replace, or the offer after the next password login).",
        ],
        options: [.flag("--json", "print what was done as JSON")],
        operands: ["USER"], run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let user = try userName(inv.operands[0], command: "unlock")
        try inv.requireRoot()
        let site = try inv.site()
        let held = try site.held(by: user)
        guard !held.isEmpty else {
            throw .failed("this host's authenticator holds no passkey of \(user), so there is nothing to unlock; see passkeyctl list \(user)")
        }
        let reply: HelperReply
        do {
            reply = try site.relyingParty.helper.perform(.unlock(user: user, credentialID: nil), answer: { _ in nil })
        } catch {
            throw .failed("this host's authenticator does not answer: \(error); run passkeyctl status")
        }
        switch reply {
        case .done: break
        case .failure(let f): throw .failed("the authenticator did not unlock \(user)'s passkeys: \(f); run passkeyctl status")
        default: throw .failed("the helper sent an unexpected reply to unlock; run passkeyctl status")
        }
        // The report counts lockouts; the note of the current one goes with the lock.
        do {
            try site.history.update(user: user) { $0.lockout = nil }
        } catch {
            Output.warning("unlocked, but this host's history could not be updated: \(error)")
        }

        let maxAttempts = site.policy[.pinMaxAttempts]
        if inv.json {
            Output.line(JSONValue.object([
                ("format", .int(1)),
                ("user", .string(user.rawValue)),
                ("host_name", .string(site.host.hostName)),
                ("credentials", .array(held.map { h in
                    .object([("id", .string(h.id.text)), ("was_locked", .bool(h.locked)),
                             ("attempts_left_before", .int(h.attemptsLeft)), ("attempts_left", .int(maxAttempts))])
                })),
            ]).render())
            return
        }
        for h in held {
            let id = h.id.text
            let before = h.locked ? "was locked" : "was not locked (\(h.attemptsLeft) of \(maxAttempts) attempts left)"
            Output.line("\(user)'s passkey \(id) on \(site.host.hostName) \(before); \(maxAttempts) PIN attempts now.")
        }
    }
}
