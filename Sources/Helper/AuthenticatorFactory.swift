import Authenticator
import Crypto
import HelperProtocol
import Policy
import Storage

/// Picks the backend the policy asks for.
enum AuthenticatorFactory {
    static func make(policyPath: String) throws(HelperFailure) -> HostAuthenticator {
        let policy: Policy
        do {
            (policy, _) = try Policy.load(path: policyPath)
        } catch {
            throw HelperFailure(.unavailable, "policy file: \(error)")
        }
        let settings = SoftwareAuthenticator.Settings(
            pinMinLength: policy[.pinMinLength], pinMaxAttempts: policy[.pinMaxAttempts],
            kdfCost: Scrypt.Cost(log2N: policy[.pinKDFCost]))
        switch policy[.authenticator] {
        case .software, .auto:
            return SoftwareAuthenticator(store: FileCredentialStore(stateDirectory: policy[.stateDir]), settings: settings,
                                         now: currentEpochSeconds)
        case .tpm:
            throw HelperFailure(.unavailable, "authenticator = tpm is not available in this build; use software or auto")
        }
    }
}
