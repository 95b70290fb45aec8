#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import Registry
import RelyingParty
import Wiring
import Storage
import Identifiers

// What passkeyctl builds, top to bottom: Arguments parses the command line (--conf, --json,
// the command); each command then asks for what it needs, no more:
//   Invocation.site()          Site.load (Sources/Wiring/Site.swift): the policy, the host
//                              identity, the registry port, the host history, the helper as this
//                              process may start it, the relying party — as the module builds them
//   Site.record(of:)           the registry port's read
//   Site.held(by:)             the helper's probe: what this host's authenticator holds
//   DirectoryProgram           registry = ldap: pam_passkey_directory (sync, status's check)

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
        let reports: [AuthenticatorReport]
        do {
            switch try relyingParty.probe(user: user) {
            case .success(let r): reports = r
            case .failure(let f): throw CLIError.failed("this host's authenticator is not working: \(f); run passkeyctl status")
            }
        } catch let e as CLIError {
            throw e
        } catch {
            throw .failed("this host's authenticator does not answer: \(error); run passkeyctl status")
        }
        guard let host = reports.hostAuthenticator else {
            throw .failed("the helper reported no host authenticator; run passkeyctl status")
        }
        if let problem = host.health.problem {
            throw .failed("this host's \(host.health.kind.rawValue) authenticator is \(host.health.condition.code): \(problem); run passkeyctl status")
        }
        return host.held
    }
}

/// Who runs passkeyctl, for `revokedBy`: the administrator behind sudo when there is one.
func administratorName() -> String {
    if let sudo = getenv("SUDO_USER").map({ String(cString: $0) }), !sudo.isEmpty { return sudo }
    if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    return "uid \(getuid())"
}
