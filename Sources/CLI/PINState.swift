#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import WebAuthn
import JSON
import Identifiers

/// The wrong-PIN count and lock state of a user's passkeys on this host, as this host's
/// authenticator keeps them: read-only (a probe, which changes nothing), the view
/// `faillock --user` gives of a password tally. `passkeyctl unlock` is what resets it.
struct PINStates {
    /// Credential id (base64url) → what the authenticator holds for it.
    let held: [CredentialID: HeldCredential]
    let maxAttempts: Int

    /// nil, with the reason, when the authenticator cannot be asked: another user's state
    /// needs root (the setuid helper serves only the caller's own account), or it does
    /// not answer.
    static func read(_ record: UserRecord, site: Site) -> Result<PINStates, PINStateError>? {
        // Only a user with an active passkey bound to this host has anything to show, and
        // only then is the helper started.
        guard record.credentials.contains(where: { CredentialSignal(record: $0).couldBeHeld(onHost: site.host.hostID) }),
              let user = try? UserName(validating: record.user) else { return nil }
        guard geteuid() == 0 || isCallersOwnAccount(record.user) else {
            return .failure(PINStateError(text: "wrong-PIN counts of \(record.user) need root"))
        }
        // The same probe, and the same words for what is wrong, as every other command.
        do throws(CLIError) {
            let held = try site.held(by: user)
            return .success(PINStates(held: Dictionary(held.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }),
                                      maxAttempts: site.policy[.pinMaxAttempts]))
        } catch {
            return .failure(PINStateError(text: "wrong-PIN counts of \(record.user) unknown: \(error.message)"))
        }
    }

    func wrongPINs(_ h: HeldCredential) -> Int { max(0, maxAttempts - h.attemptsLeft) }

    /// The table cell: "0 of 5", "5 of 5, locked".
    func cell(_ credential: CredentialRecord) -> String {
        guard let h = held[credential.id] else { return "-" }
        return "\(wrongPINs(h)) of \(maxAttempts)" + (h.locked ? ", locked" : "")
    }

    func json(_ credential: CredentialRecord) -> JSONValue {
        guard let h = held[credential.id] else { return .null }
        return .object([("wrong_pins", .int(Int64(wrongPINs(h)))), ("attempts_left", .int(Int64(h.attemptsLeft))),
                        ("max_attempts", .int(Int64(maxAttempts))), ("locked", .bool(h.locked))])
    }
}

struct PINStateError: Error {
    let text: String
}

private func isCallersOwnAccount(_ user: String) -> Bool {
    guard let pw = getpwnam(user) else { return false }
    return pw.pointee.pw_uid == getuid()
}
