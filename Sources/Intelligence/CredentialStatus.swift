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
    /// A roaming security key: this host cannot use one yet.
    case securityKey = "security_key"
    /// Revoked: ignored by every rule.
    case revoked
}

public struct CredentialAssessment: Sendable, Equatable {
    public var credential: CredentialSignal
    public var status: CredentialStatus
}

/// Every credential of the user with its status here, in registry order.
public func assessCredentials(_ signals: Signals) -> [CredentialAssessment] {
    let healthy = signals.authenticator.state == .healthy
    return signals.credentials.map { c in
        let status: CredentialStatus
        if c.revoked {
            status = .revoked
        } else if c.kind == .roaming {
            status = .securityKey
        } else if healthy, let held = signals.authenticator.held.first(where: { $0.id == c.id }) {
            // Held wins over the registry's host id: a key that is here works here even if the
            // host id changed since it was made.
            status = held.locked ? .locked : .usable
        } else if c.hostID == signals.host.id {
            status = healthy ? .missing : .unreachable
        } else {
            status = .elsewhere
        }
        return CredentialAssessment(credential: c, status: status)
    }
}
