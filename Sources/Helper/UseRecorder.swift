#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import HostState
import Policy
import Registry
import Storage
import WebAuthn
import Identifiers

/// Writes a login's sign counter and last use to the registry, and the login, a cancelled PIN
/// prompt or a lockout to this host's history, for a caller that is not root (a screen
/// locker): such a process can read the registry but not write it, and cannot read the host
/// state at all. Only what this helper has just done, only for the caller's own account.
struct UseRecorder {
    /// The policy, read once for everything this request records.
    let policy: Result<Policy, HelperFailure>

    init(policyPath: String) {
        do { policy = .success(try Policy.load(path: policyPath).0) } catch {
            policy = .failure(HelperFailure(.unavailable, "policy file: \(error)"))
        }
    }

    /// A cancelled PIN prompt or a lockout, as the module records them for root. Failing to
    /// record it changes nothing about the answer (it is logged).
    func recordFailure(_ failure: HelperFailure, user: UserName, credentialID: CredentialID?) {
        let time = currentEpochSeconds()
        switch failure.code {
        case .cancelled:
            history(user) { $0.recordCancel(at: time) }
        case .locked:
            guard let id = credentialID else { return }
            history(user) { $0.recordLockout(credentialID: id, at: time) }
        default:
            return
        }
    }

    private func history(_ user: UserName, _ change: (inout UserHistory) -> Void) {
        do {
            let policy = try policy.get()
            try HistoryStore(stateDirectory: policy[.stateDir]).update(user: user) { change(&$0) }
        } catch {
            HelperLog.write(LOG_WARNING, "could not update this host's history for \(user): \(error)")
        }
    }

    func record(_ request: GetAssertionRequest, _ assertion: Assertion) throws(HelperFailure) {
        let signCount: UInt32
        do { signCount = try AuthenticatorData(bytes: assertion.authenticatorData).signCount } catch {
            throw HelperFailure(.internalError, "authenticator data: \(error)")
        }
        let policy = try policy.get()
        let user = request.user
        let host: HostIdentity
        do { host = try HostIdentity.load(hostIDFile: policy[.hostIDFile], configuredName: policy[.hostName]) } catch {
            throw HelperFailure(.unavailable, "host identity: \(error)")
        }
        let id = assertion.credentialID
        let time = currentEpochSeconds()
        do {
            try registry(policy).recordLogin(user: user, credentialID: id, signCount: signCount, at: time, host: host.hostName)
        } catch {
            throw HelperFailure(.unavailable, "the registry could not record the login: \(error)")
        }
        history(user) { $0.recordPasskeyLogin(at: time) }
    }

    /// The registry the policy names. `registry = ldap`: the directory's cache and queue; the
    /// login reaches the directory with the next refresh or sync from a root process (this
    /// helper does not make the screen locker wait for the directory).
    private func registry(_ policy: Policy) -> any CredentialRegistry {
        switch policy[.registry] {
        case .files:
            return FileRegistry(directory: policy[.registryDir])
        case .ldap:
            return DirectoryRegistry(location: policy[.ldapURI], cacheDirectory: policy[.registryCacheDir],
                                     queue: WriteQueue(stateDirectory: policy[.stateDir]), sync: nil,
                                     rules: CacheRules(policy: policy))
        }
    }
}
