import Crypto
import HelperProtocol
import Registry
import Storage
import WebAuthn
import Wording
import Identifiers

/// How a passkey login ended. Only `.success` may ever become PAM_SUCCESS, and only after the
/// assertion verified against the registry's public key and the registry recorded it.
public enum LoginOutcome: Equatable, Sendable {
    case success(credentialID: CredentialID)
    /// Empty PIN: the user chose the password.
    case cancelled
    case wrongPIN(attemptsLeft: Int)
    case locked(credentialID: CredentialID?)
    /// The authenticator answered, but what it sent does not verify: PAM_AUTH_ERR.
    case rejected(LoginRejection)
    /// The helper or the registry could not do their part: PAM_AUTHINFO_UNAVAIL.
    case unavailable(CeremonyFailure)
}

/// Why a ceremony could not be carried out on our side (not the user's doing, not a refused
/// answer): the helper, its reply, or the registry. Its description is for administrators.
public enum CeremonyFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing to ask the authenticator for.
    case noUsableCredential
    /// The helper could not be started or talked to.
    case helper(HelperClientError)
    /// The helper answered with a failure of its own.
    case helperFailed(HelperFailure)
    /// The helper's reply does not belong to the request.
    case unexpectedReply(operation: String)
    /// The registry's record of the credential has a public key that does not decode.
    case unreadablePublicKey(credentialID: CredentialID)
    /// The registry could not record what happened; `what` says what was at stake.
    case registry(what: String, detail: String)
    /// What the authenticator made does not verify (registration).
    case notVerified(String)
    /// libcrypto cannot be loaded (Crypto's `Libcrypto.problem`) for an enrollment that may
    /// need it (a security key's attestation certificate): the helper is not started and no
    /// PIN is asked for.
    case cryptoUnavailable(String)

    public var description: String {
        switch self {
        case .noUsableCredential: "no usable credential to ask for"
        case .helper(let e): "\(e)"
        case .helperFailed(let f): "helper: \(f)"
        case .unexpectedReply(let op): "helper sent an unexpected reply to \(op)"
        case .unreadablePublicKey(let id): "registry record of credential \(id.short) has an unreadable public key"
        case .registry(let what, let detail): "\(what): \(detail)"
        case .notVerified(let why): why
        case .cryptoUnavailable(let why): "cannot verify a security key's attestation: \(why)"
        }
    }
}

/// Why an answer from the authenticator was not accepted.
public enum LoginRejection: Equatable, Sendable {
    /// It signed with a credential that was not asked for.
    case unexpectedCredential(credentialID: CredentialID)
    /// A valid signature whose counter did not grow: a replay, or a cloned authenticator.
    case signCountRegressed(credentialID: CredentialID, stored: UInt32, received: UInt32)
    /// Anything else the verifier refused (signature, challenge, flags, …).
    case verification(credentialID: CredentialID, detail: String)

    public var code: String {
        switch self {
        case .signCountRegressed: "sign_count_regressed"
        case .unexpectedCredential, .verification: "assertion_rejected"
        }
    }

    public var summary: String {
        switch self {
        case .unexpectedCredential(let id):
            "the authenticator answered with credential \(id.short), which was not asked for"
        case .signCountRegressed(let id, let stored, let received):
            "the signature of passkey \(id.short) is valid but its counter is \(received), not above the recorded \(stored): "
                + "a replay, or a copy of the key used elsewhere (a cloned authenticator); login refused"
        case .verification(let id, let detail):
            "the assertion of passkey \(id.short) did not verify: \(detail)"
        }
    }
}

extension RelyingParty {
    /// Asks the host authenticator for an assertion over a fresh challenge with one of
    /// `credentials` (records of this user bound to this host), verifies it, records it.
    /// `wrongPIN` is told of each wrong PIN the user is asked again after, with the attempts
    /// left (the module logs each one).
    public func login(user: UserName, credentials: [CredentialRecord], ui: UserInterface,
                      wrongPIN: (Int) -> Void = { _ in }) -> LoginOutcome {
        // This host's own passkeys first (a PIN); the security keys' only when there are none
        // (a PIN and a touch).
        let active = credentials.filter(\.isActive)
        let platform = active.filter { $0.kind == .platform }
        let target: CeremonyTarget = platform.isEmpty ? .securityKey : .host
        var allowed = platform.isEmpty ? active : platform
        // One relying party id per assertion: a key's credentials made for the policy's rp_id
        // first, else those of the first other one (FreeIPA's keys: the IPA domain).
        let rp = allowed.contains { $0.relyingPartyID(default: rpID) == rpID } ? rpID : allowed.first?.relyingPartyID(default: rpID) ?? rpID
        allowed = allowed.filter { $0.relyingPartyID(default: rpID) == rp }
        let ids = allowed.map(\.id)
        guard !ids.isEmpty else { return .unavailable(.noUsableCredential) }
        // The assertion is verified in Swift (Crypto's P256Arithmetic): a passkey login does
        // not load libcrypto into the PAM application.

        let challenge = SecureRandom.bytes(32)
        let clientDataJSON = CollectedClientData.make(type: CollectedClientData.getType, challenge: challenge, origin: origin)
        let request = GetAssertionRequest(user: user, rpID: rp, clientDataHash: SHA256.hash(clientDataJSON),
                                          allowCredentials: ids, target: target)
        let reply: HelperReply
        // The credential the helper asked the PIN for: the one a lockout is about.
        var askedFor: CredentialID? = nil
        var touchAsked = false
        do {
            reply = try helper.perform(.getAssertion(request), answer: { question in
                switch question {
                case .existing(let id, let left, let retry):
                    askedFor = id
                    if retry {
                        wrongPIN(left)
                        ui.error(Wording.wrongPIN(attemptsLeft: left))
                    }
                    return ui.secret(Wording.pinPrompt(user: user.rawValue, hostName: host.hostName))
                case .securityKey(let left, let retry):
                    if retry {
                        wrongPIN(left)
                        ui.error(Wording.wrongSecurityKeyPIN(retriesLeft: left))
                    }
                    return ui.secret(Wording.securityKeyPINPrompt(user: user.rawValue))
                case .new, .confirm:
                    return nil
                }
            }, notice: { notice in
                if case .touch = notice {
                    touchAsked = true
                    ui.info(Wording.touchSecurityKey)
                }
            })
        } catch {
            return .unavailable(.helper(error))
        }
        let onKey = target == .securityKey

        switch reply {
        case .assertion(let assertion):
            return verifyAndRecord(assertion, user: user, allowed: allowed, rpID: rp, challenge: challenge, clientDataJSON: clientDataJSON)
        case .failure(let f):
            switch f.code {
            case .cancelled:
                if touchAsked { ui.error(Wording.securityKeyNotTouched) }
                return .cancelled
            case .wrongPIN:
                // The last wrong PIN of this login: said like the others, then the password.
                let left = f.attemptsLeft ?? 0
                ui.error(onKey ? Wording.wrongSecurityKeyPIN(retriesLeft: left) : Wording.wrongPIN(attemptsLeft: left))
                return .wrongPIN(attemptsLeft: left)
            case .locked:
                ui.error(onKey ? Wording.securityKeyLocked : Wording.locked)
                return .locked(credentialID: askedFor ?? (allowed.count == 1 ? allowed[0].id : nil))
            default: return .unavailable(.helperFailed(f))
            }
        default:
            return .unavailable(.unexpectedReply(operation: "getAssertion"))
        }
    }

    private func verifyAndRecord(_ assertion: Assertion, user: UserName, allowed: [CredentialRecord], rpID: String,
                                 challenge: [UInt8], clientDataJSON: [UInt8]) -> LoginOutcome {
        let idText = assertion.credentialID
        guard let record = allowed.first(where: { $0.id == idText }) else {
            return .rejected(.unexpectedCredential(credentialID: idText))
        }
        guard let keyBytes = Base64URL.decode(record.publicKey), let key = try? COSEKey(encoded: keyBytes) else {
            return .unavailable(.unreadablePublicKey(credentialID: idText))
        }
        let verified: VerifiedAssertion
        do {
            verified = try AssertionVerifier.verify(
                authenticatorData: assertion.authenticatorData, clientDataJSON: clientDataJSON, signature: assertion.signature,
                credentialPublicKey: key, storedSignCount: record.signCount,
                expecting: AssertionExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true))
        } catch .signCountNotIncreased(let stored, let received) {
            // Recorded on the credential, for the administrator (passkeyctl list), where this
            // process may write the registry.
            if !helperRecordsUse {
                let time = now()
                try? registry.recordSignCountRegression(
                    user: user, credentialID: idText,
                    SignCountRegression(time: time, host: host.hostName, stored: stored, received: received))
            }
            return .rejected(.signCountRegressed(credentialID: idText, stored: stored, received: received))
        } catch {
            return .rejected(.verification(credentialID: idText, detail: "\(error)"))
        }
        // The proof is only accepted once the new counter and the use are on disk: a counter
        // we could not record would blind the clone check next time. A process that is not
        // root cannot write the registry: the setuid helper recorded the counter it signed
        // with before it replied (HelperServer), so here it is on disk already.
        guard !helperRecordsUse else { return .success(credentialID: idText) }
        let time = now()
        do {
            try registry.recordLogin(user: user, credentialID: idText, signCount: verified.signCount, at: time, host: host.hostName)
        } catch {
            return .unavailable(.registry(what: "assertion verified but the registry could not record it", detail: "\(error)"))
        }
        return .success(credentialID: idText)
    }
}
