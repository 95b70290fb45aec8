import CPAM
import Wiring

// What pam_passkey.so builds, top to bottom, in every PAM call (nothing is kept between calls
// inside someone else's process):
//
//   module arguments (conf=, stack=, debug)          ModuleArguments
//   └─ Site.load(policyPath:)                        Sources/Wiring/Site.swift
//        ├─ the policy file                          Policy.load: every key, its default
//        ├─ this host's identity                     HostIdentity (host_id_file, host_name)
//        ├─ the registry port                        Site.registry: FileRegistry (registry_dir), or
//        │                                           DirectoryRegistry (registry = ldap: the cache,
//        │                                           the queue, pam_passkey_directory with a deadline)
//        ├─ the host history                         HistoryStore (state_dir; root only)
//        ├─ the helper, as this process may start it HelperClient.forThisProcess: --conf when
//        │                                           root, the setuid launcher when not
//        └─ the relying party                        RelyingParty: the ceremonies, over the ports
//   then, per step, Site.gather (the decision's ports: registry, host history, the helper's
//   probe, the account database) → decideLogin / decideAppend → a ceremony or a step aside.

extension ModuleCall {
    /// The policy and everything built from it; nil (logged) when the policy file or the host
    /// identity is unusable — the module then steps aside and the password decides.
    func loadSite() -> Site? {
        do {
            let site = try Site.load(policyPath: arguments.policyPath)
            for w in site.warnings { handle.log(LOG_WARNING, "\(w)") }
            return site
        } catch {
            handle.log(LOG_ERR, error.description)
            return nil
        }
    }
}
