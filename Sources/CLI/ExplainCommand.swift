import Intelligence
import RelyingParty
import Storage

enum ExplainCommand {
    static let spec = CommandSpec(
        "explain", synopsis: "USER [--service NAME] [--rhost ADDR] [--tty NAME] [--json]",
        summary: "Show what pam_passkey would decide if USER signed in on this host now: the login decision and, if the password then succeeded, the append decision, each with its reason and the signals behind it.",
        details: [
            "The session is imagined: service login, local, with a conversation, unless --service, --rhost or --tty say otherwise. This host's authenticator is always asked, even where the module would not ask it (a remote session). Nothing is changed.",
        ],
        options: [
            .valued("--service", "NAME", "the PAM service (default login)"),
            .valued("--rhost", "ADDR", "the remote host (PAM_RHOST) of the session"),
            .valued("--tty", "NAME", "the terminal (PAM_TTY) of the session"),
            .flag("--json", "print the explanation as JSON"),
        ],
        operands: ["USER"], run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let user = try userName(inv.operands[0], command: "explain")
        let site = try inv.site()
        let session = SessionSignal(service: inv.value("--service") ?? "login", rhost: inv.value("--rhost"), tty: inv.value("--tty"))
        let signals: Signals
        do { signals = try site.signals(for: user, session: session, probe: .always).signals } catch {
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
