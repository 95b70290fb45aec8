/// What one credential means on this host right now. The registry says where a credential
/// was made; only the authenticator's probe says whether it is still there. A prompt is
/// started only for `usable` credentials, which is what keeps dead ends at zero.
public enum CredentialStatus: String, Sendable, Codable, CaseIterable {
    /// Held by this host's healthy authenticator and not locked: a PIN away.
    case usable
    /// Held here but locked after too many wrong PINs.
    case locked
    /// Registered for this host, but the (healthy) authenticator does not hold it: its state
    /// was lost (reinstalled with the same machine id, state directory wiped, TPM cleared).
    case missing
    /// Registered for this host, but the authenticator is unavailable, broken or not asked.
    case unreachable
    /// A platform credential of another host.
    case elsewhere
    /// On a security key that is not plugged in (or was not looked for).
    case securityKey = "security_key"
    /// Revoked: ignored by every rule.
    case revoked
}

public struct CredentialAssessment: Sendable, Equatable {
    public var credential: CredentialSignal
    public var status: CredentialStatus
}

extension CredentialSignal {
    /// Whether it could be used on this host: active, and bound to this host or on a security
    /// key (which may be plugged in here).
    public func couldBeHeld(onHost hostID: String) -> Bool { !revoked && (kind == .roaming || self.hostID == hostID) }
}

extension CredentialStatus {
    /// What `credential` means on the host `hostID` whose authenticator answered `authenticator`
    /// and whose security keys answered `securityKeys`.
    public init(of c: CredentialSignal, hostID: String, authenticator: AuthenticatorSignal,
                securityKeys: SecurityKeySignal = .notProbed) {
        let healthy = authenticator.state == .healthy
        if c.revoked {
            self = .revoked
        } else if c.kind == .roaming {
            if let held = securityKeys.held.first(where: { $0.id == c.id }) {
                self = held.locked ? .locked : .usable
            } else {
                self = .securityKey
            }
        } else if healthy, let held = authenticator.held.first(where: { $0.id == c.id }) {
            // Held wins over the registry's host id: a key that is here works here even if the
            // host id changed since it was made.
            self = held.locked ? .locked : .usable
        } else if c.hostID == hostID {
            self = healthy ? .missing : .unreachable
        } else {
            self = .elsewhere
        }
    }

    /// This host's own credential — held here, or registered for this host — whether it works
    /// or not: another is not created beside it (the heal path replaces it). A credential on
    /// a plugged-in security key is `usable` or `locked` too; callers that mean the host's own
    /// authenticator look at the credential's kind as well (`isHostBound`).
    public var isThisHosts: Bool {
        switch self {
        case .usable, .locked, .missing, .unreachable: true
        case .elsewhere, .securityKey, .revoked: false
        }
    }
}

/// Every credential of the user with its status here, in registry order.
public func assessCredentials(_ signals: Signals) -> [CredentialAssessment] {
    signals.credentials.map { c in
        CredentialAssessment(credential: c, status: CredentialStatus(of: c, hostID: signals.host.id, authenticator: signals.authenticator,
                                                                     securityKeys: signals.securityKeys))
    }
}
