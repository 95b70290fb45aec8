import Authenticator
import Crypto
import HelperProtocol
import Policy
import Storage

// What pam_passkey_helper builds, top to bottom (main.swift, then per connection):
//
//   Invocation.current().harden()       who started it (real uid), environment and fds cleaned
//   HelperCommandLine.parse             --conf only from root; otherwise the system policy
//   HelperServer(channel: stdin/stdout) serves a few requests, one after the other
//   └─ on the first request: AuthenticatorFactory.make(policyPath:)
//        ├─ the policy file             authenticator, tcti, state_dir, pin_* keys
//        ├─ one host authenticator      SoftwareAuthenticator (state_dir/authenticator/software)
//        │                              or TPMAuthenticator (the TPM at tcti)
//        └─ the security keys           SecurityKeys (security_keys: libfido2's enumeration,
//                                       device paths, or off), asked only for roaming credentials
//   and, for a caller that is not root, UseRecorder (the registry port and the host history,
//   from the same policy) records what the module cannot.

/// What the helper serves: this host's authenticator, and the security keys plugged in.
struct Authenticators {
    let host: HostAuthenticator
    let securityKeys: SecurityKeys
}

/// Picks the backends the policy asks for.
///
/// `auto` takes the TPM at `tcti` when one answers, and software otherwise — except on a
/// host that already keeps TPM credentials: a TPM that stops answering there is reported as an
/// unavailable TPM authenticator (the decision steps aside and offers nothing), not silently
/// replaced by software, which would then offer to replace every TPM passkey with a weaker one.
enum AuthenticatorFactory {
    /// How long `auto` waits for a TPM to answer.
    static let autoProbeTimeoutMilliseconds: Int32 = 1500

    static func make(policyPath: String, afterReply: AfterReply) throws(HelperFailure) -> Authenticators {
        let policy: Policy
        do {
            (policy, _) = try Policy.load(path: policyPath)
        } catch {
            throw HelperFailure(.unavailable, "policy file: \(error)")
        }
        return Authenticators(host: host(policy, afterReply: afterReply), securityKeys: securityKeys(policy))
    }

    static func securityKeys(_ policy: Policy) -> SecurityKeys {
        let listed = policy[.securityKeys]
        let devices: SecurityKeys.Devices = listed == ["auto"] ? .enumerate : listed == ["off"] || listed.isEmpty ? .off : .paths(listed)
        return SecurityKeys(settings: SecurityKeys.Settings(devices: devices, touchTimeoutSeconds: policy[.securityKeyTimeout],
                                                            pinMinLength: policy[.pinMinLength]))
    }

    static func host(_ policy: Policy, afterReply: AfterReply) -> HostAuthenticator {
        let tcti = policy[.tcti]
        switch policy[.authenticator] {
        case .software:
            return software(policy, selection: "authenticator = software", afterReply)
        case .tpm:
            return tpm(policy, selection: "authenticator = tpm, TCTI \"\(tcti)\"", afterReply)
        case .auto:
            switch TPMAuthenticator.presence(tcti: tcti, timeoutMilliseconds: autoProbeTimeoutMilliseconds) {
            case .answering:
                return tpm(policy, selection: "authenticator = auto: a TPM answers at TCTI \"\(tcti)\"", afterReply)
            case .absent(let why):
                let store = KeyringStore<TPMCredential>(stateDirectory: policy[.stateDir], backend: "tpm")
                if store.hasState {
                    return tpm(policy, selection: "authenticator = auto: this host keeps its passkeys in the TPM at TCTI \"\(tcti)\", which does not answer", afterReply)
                }
                return software(policy, selection: "authenticator = auto: no TPM (\(why))", afterReply)
            }
        }
    }

    private static func software(_ policy: Policy, selection: String, _ afterReply: AfterReply) -> HostAuthenticator {
        let settings = SoftwareAuthenticator.Settings(
            pinMinLength: policy[.pinMinLength], pinMaxAttempts: policy[.pinMaxAttempts],
            kdfCost: Scrypt.Cost(log2N: policy[.pinKDFCost]))
        var authenticator = SoftwareAuthenticator(stateDirectory: policy[.stateDir], settings: settings, afterReply: afterReply,
                                                  now: currentEpochSeconds)
        authenticator.selection = selection
        return authenticator
    }

    private static func tpm(_ policy: Policy, selection: String, _ afterReply: AfterReply) -> HostAuthenticator {
        let settings = TPMAuthenticator.Settings(tcti: policy[.tcti], pinMinLength: policy[.pinMinLength],
                                                 pinMaxAttempts: policy[.pinMaxAttempts])
        let authenticator = TPMAuthenticator(store: KeyringStore<TPMCredential>(stateDirectory: policy[.stateDir], backend: "tpm"),
                                             settings: settings, selection: selection, afterReply: afterReply,
                                             now: currentEpochSeconds)
        return authenticator
    }
}
