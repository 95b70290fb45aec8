import Crypto
import HelperProtocol
import Registry
import Storage
import WebAuthn
import Wording
import Identifiers

public enum RegistrationOutcome: Equatable, Sendable {
    /// Registered; `computers` is how many hosts now have an active passkey of this user.
    case created(CredentialRecord, computers: Int)
    /// The user gave no PIN (or gave up choosing one).
    case cancelled
    case failed(CeremonyFailure)
}

extension RelyingParty {
    /// Creates a passkey for `user` on this host through the helper (the user chooses a PIN),
    /// verifies its attestation as any relying party would, and registers it. The heal path
    /// passes `replacing` (this host's locked or lost credentials): they are revoked once the
    /// new one is registered, and the keys the authenticator still holds (`heldIDs`, from the
    /// probe) are deleted from it.
    /// `target: .securityKey` makes the passkey on the security key plugged in (its PIN, or a
    /// first PIN for a key without one, and a touch): a roaming credential, usable on any host
    /// the key is plugged into.
    public func register(user: UserName, replacing: [CredentialRecord] = [], heldIDs: Set<CredentialID> = [],
                         label: String = "", target: CeremonyTarget = .host, ui: UserInterface) -> RegistrationOutcome {
        // A security key's attestation may carry a certificate, which only libcrypto parses
        // (Crypto's X509Certificate): without it no PIN is asked for. The host authenticator's
        // attestation ("none", or signed by the credential's own key) is verified in Swift.
        if target == .securityKey, let problem = Libcrypto.problem { return .failed(.cryptoUnavailable(problem)) }
        let challenge = SecureRandom.bytes(32)
        let clientDataJSON = CollectedClientData.make(type: CollectedClientData.createType, challenge: challenge, origin: origin)
        let heldOld = replacing.map(\.id).filter(heldIDs.contains)
        let request = MakeCredentialRequest(user: user, rpID: rpID, clientDataHash: SHA256.hash(clientDataJSON),
                                            userHandle: userHandle(for: user), replacing: heldOld.first, target: target)
        let reply: HelperReply
        do {
            reply = try helper.perform(.makeCredential(request), answer: { question in
                switch question {
                case .new(let min, let problem):
                    if let message = Wording.pinProblem(problem, minLength: min) { ui.error(message) }
                    return ui.secret(Wording.choosePIN(minLength: min))
                case .confirm:
                    return ui.secret(Wording.confirmPIN)
                case .securityKey(let left, let retry):
                    if retry { ui.error(Wording.wrongSecurityKeyPIN(retriesLeft: left)) }
                    return ui.secret(Wording.securityKeyPINPrompt(user: user.rawValue))
                case .existing:
                    return nil
                }
            }, notice: { notice in
                if case .touch = notice { ui.info(Wording.touchSecurityKey) }
            })
        } catch {
            return .failed(.helper(error))
        }

        let created: CreatedCredential
        switch reply {
        case .created(let c): created = c
        case .failure(let f) where f.code == .cancelled: return .cancelled
        case .failure(let f): return .failed(.helperFailed(f))
        default: return .failed(.unexpectedReply(operation: "makeCredential"))
        }

        let verified: VerifiedRegistration
        do {
            verified = try RegistrationVerifier.verify(
                attestationObject: created.attestationObject, clientDataJSON: clientDataJSON,
                expecting: RegistrationExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true))
        } catch {
            forget(created.credentialID, user: user)
            return .failed(.notVerified("the new credential does not verify: \(error)"))
        }
        guard verified.credentialID == created.credentialID else {
            forget(created.credentialID, user: user)
            return .failed(.notVerified("the attestation names a different credential id than the helper reported"))
        }

        let time = now()
        let record = self.record(verified, target: target, attestationObject: created.attestationObject,
                                 clientDataJSON: clientDataJSON, label: label, at: time)
        do {
            let computers = try registry.register(record, for: user, replacing: replacing.map(\.id), at: time, host: host.hostName)
            // The helper deleted the first held key itself; any further ones go now.
            for id in heldOld.dropFirst() { forget(id, user: user) }
            return .created(record, computers: computers)
        } catch {
            forget(created.credentialID, user: user)
            return .failed(.registry(what: "the passkey was created but could not be registered", detail: "\(error)"))
        }
    }

    /// Registers a credential a security key made outside pam_passkey (`fido2-cred -M`, say)
    /// over `clientDataJSON` (type webauthn.create, this relying party's origin; its challenge
    /// is the one the key signed over): verified as any relying party would, user
    /// verification included, then registered as a roaming credential.
    public func importSecurityKeyCredential(user: UserName, attestationObject: [UInt8], clientDataJSON: [UInt8],
                                            label: String = "") -> RegistrationOutcome {
        let challenge: [UInt8]
        do { challenge = try CollectedClientData(json: clientDataJSON).challenge } catch {
            return .failed(.notVerified("the clientDataJSON does not parse: \(error)"))
        }
        let verified: VerifiedRegistration
        do {
            verified = try RegistrationVerifier.verify(
                attestationObject: attestationObject, clientDataJSON: clientDataJSON,
                expecting: RegistrationExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true))
        } catch {
            return .failed(.notVerified("the credential does not verify: \(error)"))
        }
        let time = now()
        let record = self.record(verified, target: .securityKey, attestationObject: attestationObject,
                                 clientDataJSON: clientDataJSON, label: label, at: time)
        do {
            if try registry.record(for: user).credential(id: record.id) != nil {
                return .failed(.notVerified("credential \(record.id.short) is registered already"))
            }
            return .created(record, computers: try registry.register(record, for: user, replacing: [], at: time, host: host.hostName))
        } catch {
            return .failed(.registry(what: "the credential verified but could not be registered", detail: "\(error)"))
        }
    }

    private func record(_ verified: VerifiedRegistration, target: CeremonyTarget, attestationObject: [UInt8],
                        clientDataJSON: [UInt8], label: String, at time: EpochSeconds) -> CredentialRecord {
        CredentialRecord(
            id: verified.credentialID,
            publicKey: Base64URL.encode(verified.credentialPublicKey.encoded),
            algorithm: Int(verified.credentialPublicKey.algorithm),
            kind: target == .securityKey ? .roaming : .platform, hostID: host.hostID, hostName: host.hostName,
            aaguid: formatAAGUID(verified.aaguid),
            backupEligible: verified.flags.contains(.backupEligible), backedUp: verified.flags.contains(.backedUp),
            transports: target == .securityKey ? ["usb"] : ["internal"], signCount: verified.signCount,
            created: HostEvent(time: time, host: host.hostName), label: label,
            attestationObject: Base64URL.encode(attestationObject),
            clientDataJSON: Base64URL.encode(clientDataJSON))
    }

    /// Best effort: a key the registry does not know would only confuse the next probe.
    private func forget(_ credentialID: CredentialID, user: UserName) {
        _ = try? helper.perform(.deleteCredential(user: user, credentialID: credentialID), answer: { _ in nil })
    }
}

/// 8-4-4-4-12 lower-case hex.
public func formatAAGUID(_ bytes: [UInt8]) -> String {
    let hex = Base16.encode(bytes)
    guard hex.count == 32 else { return hex }
    let c = Array(hex)
    return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
}
