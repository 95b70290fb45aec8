#if canImport(Glibc)
import Glibc
#endif
import Identifiers
import Policy
import Storage

// pam_passkey_directory — the only pam_passkey program that links libldap. The module,
// passkeyctl and the helper start it (as root, with a deadline: registry_timeout) and kill it
// when it overstays; it reads the policy, binds as this host, and
//   refresh USER   sends the queued writes, then reads USER's entries into the cache
//   push           sends the queued writes
//   sync           sends the queued writes, then refreshes every user the directory has
//   check          binds and reads the subtree's first level (passkeyctl status)
//   export DIR     copies the files registry in DIR into the directory (passkeyctl registry export)
//   import DIR     copies every record in the directory into the files registry in DIR
// export and import bind as an administrator when given --bind-dn DN --password-file FILE
// (the access rules let a host create only credentials bound to itself).
// Exit status: 0 done; 1 usage, not root, or an unusable policy; 2 the directory could not be
// used (unreachable, bind refused, an entry unreadable). One line on stdout says why (the
// caller shows or logs it); the same goes to syslog (LOG_AUTHPRIV).

func log(_ priority: Int32, _ text: String) {
    openlog("pam_passkey_directory", LOG_PID, LOG_AUTHPRIV)
    text.withCString { t in withVaList([t]) { vsyslog(priority, "%s", $0) } }
}

func finish(_ status: Int32, _ message: String) -> Never {
    if !message.isEmpty {
        let line = message + "\n"
        _ = line.withCString { write(1, $0, strlen($0)) }
        log(status == 0 ? LOG_INFO : LOG_ERR, message)
    }
    exit(status)
}

// Before anything reads the environment: libldap would read ~/.ldaprc, ./ldaprc, $LDAPCONF,
// $LDAPRC and every LDAP* variable (and /etc/ldap/ldap.conf) unless LDAPNOINIT is set. This
// program takes its settings from the policy file alone. With ldap_bind = gssapi it then sets
// the three variables MIT krb5 reads, from the policy too (Kerberos.swift): KRB5_CONFIG,
// KRB5_CLIENT_KTNAME and KRB5CCNAME=MEMORY:.
clearenv()
setenv("LDAPNOINIT", "1", 1)
setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1)
umask(0o022)
signal(SIGPIPE, SIG_IGN)

func main() -> Never {
    var args = Array(CommandLine.arguments.dropFirst())
    var policyPath = Policy.systemPath
    if args.first == "--conf", args.count >= 2 {
        policyPath = args[1]
        args.removeFirst(2)
    }
    let usage = "usage: pam_passkey_directory [--conf FILE] refresh USER | push | sync | check"
        + " | export DIR | import DIR [--bind-dn DN --password-file FILE]"
    guard geteuid() == 0, getuid() == 0 else { finish(1, "pam_passkey_directory must run as root (it reads the host's directory password or keytab and writes the cache)") }
    guard let command = args.first else { finish(1, usage) }
    var administrator: AdministratorBind? = nil
    if ["export", "import"].contains(command), args.count == 6, args[2] == "--bind-dn", args[4] == "--password-file" {
        administrator = AdministratorBind(dn: args[3], passwordFile: args[5])
        args.removeLast(4)
    }

    let policy: Policy
    do { policy = try Policy.load(path: policyPath).0 } catch { finish(1, "policy file: \(error)") }

    let client: DirectoryClient
    do { client = try DirectoryClient(policy: policy, administrator: administrator) } catch { finish(2, "directory \(policy[.ldapURI]): \(error)") }

    func reportRejected() {
        for r in client.rejected { log(LOG_ERR, "the directory refused a queued write, kept aside: \(r)") }
    }

    do throws(DirectoryRunError) {
        switch command {
        case "refresh":
            guard args.count == 2, let user = try? UserName(validating: args[1]) else { finish(1, usage) }
            _ = try client.push()
            try client.refresh(user)
            reportRejected()
            finish(0, "")
        case "check":
            // Reachable, and this host's bind works: what passkeyctl status shows.
            guard args.count == 1 else { finish(1, usage) }
            // A bind the server took but mapped to no entry the access rules know reads
            // nothing: then say as whom, which is what the administrator has to fix.
            do { _ = try client.users() } catch {
                finish(2, "directory \(policy[.ldapURI]): \(error); bound as \(client.boundAs(bindDN: policy[.ldapBindDN]))")
            }
            finish(0, "reachable; bound as \(client.boundAs(bindDN: policy[.ldapBindDN]))")
        case "push":
            guard args.count == 1 else { finish(1, usage) }
            let sent = try client.push()
            reportRejected()
            finish(0, sent > 0 ? "sent \(sent) queued writes" : "")
        case "sync":
            guard args.count == 1 else { finish(1, usage) }
            let sent = try client.push()
            let users = try client.users()
            for user in users { try client.refresh(user) }
            reportRejected()
            finish(0, "sent \(sent) queued writes, refreshed \(users.count) users"
                   + (client.rejected.isEmpty ? "" : "; \(client.rejected.count) writes refused (see syslog)"))
        case "export", "import":
            guard args.count == 2, args[1].hasPrefix("/") else { finish(1, usage) }
            let report = command == "export" ? try client.export(from: args[1]) : try client.importAll(into: args[1])
            let into = "\(policy[.ldapURI]) (\(policy[.ldapBase]))"
            let text = command == "export" ? report.summary(verb: "exported", from: args[1], into: into)
                : report.summary(verb: "imported", from: into, into: args[1])
            finish(report.refused.isEmpty ? 0 : 2, text)
        default:
            finish(1, usage)
        }
    } catch {
        reportRejected()
        finish(2, "directory \(policy[.ldapURI]): \(error)")
    }
}

main()
