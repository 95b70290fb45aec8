import Intelligence
import RelyingParty
import Wiring
import Storage

enum ExplainCommand {
    static let spec = CommandSpec(
        "explain", synopsis: "USER [--service NAME] [--rhost ADDR] [--tty NAME] [--caller-uid UID] [--json]",
        summary: "Show what pam_passkey would decide if USER signed in on this host now: the login decision and, if the password then succeeded, the append decision, each with its reason and the signals behind it.",
        details: [
            "The session is imagined: service login, local, with a conversation, in a program that runs as root, unless --service, --rhost, --tty or --caller-uid say otherwise. This host's authenticator is always asked, even where the module would not ask it (a remote session) — except for another account with --caller-uid, about which nothing is read. Nothing is changed.",
            "su, sudo, passwd and polkit's agent helper are setuid root: name their service (--service su-l, --service sudo); they decide as root. --caller-uid UID imagines a program that runs as that user, as screen lockers do: it can use only its own account's passkeys and is never offered one.",
        ],
        options: [
            .valued("--service", "NAME", "the PAM service (default login)"),
            .valued("--rhost", "ADDR", "the remote host (PAM_RHOST) of the session"),
            .valued("--tty", "NAME", "the terminal (PAM_TTY) of the session"),
            .valued("--caller-uid", "UID", "the uid the program runs as, when not root (a screen locker)"),
            .flag("--json", "print the explanation as JSON"),
        ],
        operands: ["USER"], run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let user = try userName(inv.operands[0], command: "explain")
        let site = try inv.site()
        var callerUID: UInt32? = nil
        if let text = inv.value("--caller-uid") {
            guard let uid = UInt32(text) else { throw .usage("explain", "--caller-uid needs a number (a uid), not \"\(text)\"") }
            callerUID = uid == 0 ? nil : uid
        }
        let session = SessionSignal(service: inv.value("--service") ?? "login", rhost: inv.value("--rhost"), tty: inv.value("--tty"),
                                    callerUID: callerUID)
        let signals: Signals
        do { signals = try site.gather(for: user, session: session, probe: .always).signals } catch {
            throw .failed(error.description)
        }
        let explanation = explain(signals, policy: site.policy)
        if inv.json {
            Output.line(explanation.json)
            return
        }
        Output.line(explanation.text)
        if signals.uid == nil {
            Output.line("")
            Output.line("There is no account named \(user) on this host: the decision is the one for any user without passkeys.")
        }
    }
}
