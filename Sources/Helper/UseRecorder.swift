#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import HostState
import Policy
import Registry
import Storage
import WebAuthn

/// Writes a login's sign counter and last use to the registry for a caller that is not root
/// (a screen locker): such a process can read the registry but not write it. Only the counter
/// of the signature this helper has just made, only into the caller's own record.
struct UseRecorder {
    let policyPath: String

    func record(_ request: GetAssertionRequest, _ assertion: Assertion) throws(HelperFailure) {
        // authenticatorData: rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian) ‖ …
        let data = assertion.authenticatorData
        guard data.count >= 37 else { throw HelperFailure(.internalError, "authenticator data too short") }
        let signCount = data[33..<37].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let policy: Policy
        do { (policy, _) = try Policy.load(path: policyPath) } catch {
            throw HelperFailure(.unavailable, "policy file: \(error)")
        }
        let user: UserName
        do { user = try UserName(validating: request.user) } catch { throw HelperFailure(.badRequest, error.description) }
        let host: HostIdentity
        do { host = try HostIdentity.load(hostIDFile: policy[.hostIDFile], configuredName: policy[.hostName]) } catch {
            throw HelperFailure(.unavailable, "host identity: \(error)")
        }
        let id = Base64URL.encode(assertion.credentialID)
        do {
            try FileRegistry(directory: policy[.registryDir]).update(user: user) { record in
                record.recordUse(id: id, signCount: signCount, at: currentEpochSeconds(), host: host.hostName)
            }
        } catch {
            throw HelperFailure(.unavailable, "the registry could not record the login: \(error)")
        }
    }
}
