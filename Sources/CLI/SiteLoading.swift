#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import Registry
import RelyingParty
import Storage

extension Invocation {
    /// This host as the policy file describes it. Policy warnings go to stderr (status lists
    /// them itself); an unusable policy file or host identity ends the command.
    func site(showWarnings: Bool = true) throws(CLIError) -> Site {
        try checkPolicyFileGiven()
        let site: Site
        do {
            site = try Site.load(policyPath: policyPath)
        } catch {
            switch error {
            case .policy(let e): throw .failed("\(e)")
            case .hostIdentity(let e): throw .failed("this host has no identity: \(e)")
            case .policyNeedsRoot: throw .failed("--conf \(policyPath) needs root: without root the helper reads only the system policy; run passkeyctl with sudo")
            }
        }
        if showWarnings { for w in site.warnings { Output.warning("\(w)") } }
        return site
    }

    /// Commands that change the registry or the authenticator: the helper serves them only to
    /// root, and the state files belong to root.
    func requireRoot() throws(CLIError) {
        guard geteuid() == 0 else {
            throw .failed("passkeyctl \(command.name) changes the registry and this host's authenticator, so it must run as root; run it with sudo")
        }
    }
}

extension Site {
    /// The user's registry record; an unreadable registry ends the command.
    func record(of user: UserName) throws(CLIError) -> UserRecord {
        do { return try registry.record(for: user) } catch { throw .failed("cannot read the passkey registry: \(error)") }
    }

    /// What this host's authenticator holds for `user`; an authenticator that cannot answer
    /// ends the command.
    func held(by user: UserName) throws(CLIError) -> [HeldCredential] {
        let health: AuthenticatorHealth
        let held: [HeldCredential]
        do { (health, held) = try relyingParty.probe(user: user) } catch {
            throw .failed("this host's authenticator does not answer: \(error); run passkeyctl status")
        }
        if let problem = health.problem {
            throw .failed("this host's authenticator is not working: \(problem); run passkeyctl status")
        }
        return held
    }
}

/// Who runs passkeyctl, for `revokedBy`: the administrator behind sudo when there is one.
func administratorName() -> String {
    if let sudo = getenv("SUDO_USER").map({ String(cString: $0) }), !sudo.isEmpty { return sudo }
    if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    return "uid \(getuid())"
}
