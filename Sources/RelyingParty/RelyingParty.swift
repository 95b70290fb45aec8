import Crypto
import HelperProtocol
import HostState
import Policy
import Registry
import Storage
import Identifiers

/// Everything a ceremony needs: the policy, who this host is, the registry, and how to reach
/// the host authenticator. The module and passkeyctl build one each.
public struct RelyingParty {
    public var policy: Policy
    public var host: HostIdentity
    public var registry: any CredentialRegistry
    /// One helper process for all the requests of a PAM call or a command (a probe, then a
    /// ceremony): started on first use, ended by `finish()`.
    public let helper: HelperConnection
    public var now: () -> EpochSeconds
    /// The helper writes a login's counter and last use to the registry itself: it does for a
    /// caller that is not root (a screen locker), which cannot write the registry.
    public var helperRecordsUse: Bool

    public init(policy: Policy, host: HostIdentity, registry: any CredentialRegistry, helper: HelperClient,
                now: @escaping () -> EpochSeconds = currentEpochSeconds, helperRecordsUse: Bool = false) {
        self.policy = policy
        self.host = host
        self.registry = registry
        self.helper = HelperConnection(helper)
        self.now = now
        self.helperRecordsUse = helperRecordsUse
    }

    /// Lets the helper exit and reaps it. The module calls this before returning to libpam.
    public func finish() { helper.close() }

    public var rpID: String { policy[.rpID] }

    /// clientDataJSON needs an origin; a login is not a web page, so the relying party id
    /// under a scheme of our own.
    public var origin: String { "pam://\(rpID)" }

    /// The WebAuthn user handle: opaque, stable for a user across hosts, not the name itself.
    public func userHandle(for user: UserName) -> [UInt8] {
        Array(SHA256.hash(Array("pam_passkey user handle v1\0\(rpID)\0\(user.rawValue)".utf8)).prefix(16))
    }

    /// Asks the helper what each authenticator holds for `user` (the probe behind the
    /// decision): one report per authenticator, or the helper's failure when it could not look
    /// (its policy or key store unusable).
    public func probe(user: UserName, securityKeyCredentials: [CredentialID] = [], securityKeyPresence: Bool = false,
                      otherRelyingParties: [SecurityKeyLookup] = [])
        throws(HelperClientError) -> Result<[AuthenticatorReport], HelperFailure> {
        switch try helper.perform(.probe(user: user, rpID: rpID, securityKeyCredentials: securityKeyCredentials,
                                         securityKeyPresence: securityKeyPresence, otherRelyingParties: otherRelyingParties),
                                  answer: { _ in nil }) {
        case .probe(let reports): return .success(reports)
        case .failure(let f): return .failure(f)
        default: throw .malformed(WireError("unexpected reply to probe"))
        }
    }
}
