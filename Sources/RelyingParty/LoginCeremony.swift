import Crypto
import HelperProtocol
import Registry
import Storage
import WebAuthn

/// How a passkey login ended. Only `.success` may ever become PAM_SUCCESS, and only after the
/// assertion verified against the registry's public key and the registry recorded it.
public enum LoginOutcome: Equatable, Sendable {
    case success(credentialID: String)
    /// Empty PIN: the user chose the password.
    case cancelled
    case wrongPIN(attemptsLeft: Int)
    case locked(credentialID: String?)
    /// The authenticator answered, but what it sent does not verify: PAM_AUTH_ERR.
    case rejected(String)
    /// The helper or the registry could not do their part: PAM_AUTHINFO_UNAVAIL.
    case unavailable(String)
}

extension RelyingParty {
    /// Asks the host authenticator for an assertion over a fresh challenge with one of
    /// `credentials` (records of this user bound to this host), verifies it, records it.
    /// `wrongPIN` is told of each wrong PIN the user is asked again after, with the attempts
    /// left (the module logs each one).
    public func login(user: UserName, credentials: [CredentialRecord], ui: UserInterface,
                      wrongPIN: (Int) -> Void = { _ in }) -> LoginOutcome {
        let allowed = credentials.filter(\.isActive)
        let ids = allowed.compactMap { Base64URL.decode($0.id) }
        guard !ids.isEmpty else { return .unavailable("no usable credential to ask for") }

        let challenge = SecureRandom.bytes(32)
        let clientDataJSON = CollectedClientData.make(type: CollectedClientData.getType, challenge: challenge, origin: origin)
        let request = GetAssertionRequest(user: user.rawValue, rpID: rpID, clientDataHash: SHA256.hash(clientDataJSON),
                                          allowCredentials: ids)
        let reply: HelperReply
        do {
            reply = try helper.perform(.getAssertion(request)) { question in
                guard case .existing(_, let left, let retry) = question else { return nil }
                if retry {
                    wrongPIN(left)
                    ui.error(Wording.wrongPIN(attemptsLeft: left))
                }
                return ui.secret(Wording.pinPrompt(user: user.rawValue, hostName: host.hostName))
            }
        } catch {
            return .unavailable("\(error)")
        }

        switch reply {
        case .assertion(let assertion):
            return verifyAndRecord(assertion, user: user, allowed: allowed, challenge: challenge, clientDataJSON: clientDataJSON)
        case .failure(let f):
            switch f.code {
            case .cancelled: return .cancelled
            case .wrongPIN: return .wrongPIN(attemptsLeft: f.attemptsLeft ?? 0)
            case .locked:
                ui.error(Wording.locked)
                return .locked(credentialID: allowed.count == 1 ? allowed[0].id : nil)
            default: return .unavailable("helper: \(f)")
            }
        default:
            return .unavailable("helper sent an unexpected reply to getAssertion")
        }
    }

    private func verifyAndRecord(_ assertion: Assertion, user: UserName, allowed: [CredentialRecord],
                                 challenge: [UInt8], clientDataJSON: [UInt8]) -> LoginOutcome {
        let idText = Base64URL.encode(assertion.credentialID)
        guard let record = allowed.first(where: { $0.id == idText }) else {
            return .rejected("the authenticator answered with a credential that was not asked for")
        }
        guard let keyBytes = Base64URL.decode(record.publicKey), let key = try? COSEKey(encoded: keyBytes) else {
            return .unavailable("registry record of credential \(idText) has an unreadable public key")
        }
        let verified: VerifiedAssertion
        do {
            verified = try AssertionVerifier.verify(
                authenticatorData: assertion.authenticatorData, clientDataJSON: clientDataJSON, signature: assertion.signature,
                credentialPublicKey: key, storedSignCount: record.signCount,
                expecting: AssertionExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true))
        } catch {
            return .rejected("\(error)")
        }
        // The proof is only accepted once the new counter and the use are on disk: a counter
        // we could not record would blind the clone check next time. A process that is not
        // root cannot write the registry: the setuid helper recorded the counter it signed
        // with before it replied (HelperServer), so here it is on disk already.
        guard !helperRecordsUse else { return .success(credentialID: idText) }
        let time = now()
        do {
            try registry.update(user: user) { record in
                record.recordUse(id: idText, signCount: verified.signCount, at: time, host: host.hostName)
            }
        } catch {
            return .unavailable("assertion verified but the registry could not record it: \(error)")
        }
        return .success(credentialID: idText)
    }
}
