#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import HostState
import Policy
import Registry
import Storage
import WebAuthn

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
    func recordFailure(_ failure: HelperFailure, user: String, credentialID: [UInt8]?) {
        let time = currentEpochSeconds()
        switch failure.code {
        case .cancelled:
            history(user) { $0.recordCancel(at: time) }
        case .locked:
            guard let id = credentialID else { return }
            history(user) { $0.recordLockout(credentialID: Base64URL.encode(id), at: time) }
        default:
            return
        }
    }

    private func history(_ user: String, _ change: (inout UserHistory) -> Void) {
        do {
            let policy = try policy.get()
            try HistoryStore(stateDirectory: policy[.stateDir]).update(user: try UserName(validating: user)) { change(&$0) }
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
        let user: UserName
        do { user = try UserName(validating: request.user) } catch { throw HelperFailure(.badRequest, error.description) }
        let host: HostIdentity
        do { host = try HostIdentity.load(hostIDFile: policy[.hostIDFile], configuredName: policy[.hostName]) } catch {
            throw HelperFailure(.unavailable, "host identity: \(error)")
        }
        let id = Base64URL.encode(assertion.credentialID)
        let time = currentEpochSeconds()
        do {
            try FileRegistry(directory: policy[.registryDir]).recordLogin(user: user, credentialID: id, signCount: signCount,
                                                                          at: time, host: host.hostName)
        } catch {
            throw HelperFailure(.unavailable, "the registry could not record the login: \(error)")
        }
        history(request.user) { $0.recordPasskeyLogin(at: time) }
    }
}
