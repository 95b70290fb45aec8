import CBOREncoding
import Crypto
import Identifiers

/// The vocabulary the module (or passkeyctl) and the helper speak. A helper process serves a
/// few requests one after the other (a probe, then a ceremony); while serving one it may ask
/// for PINs any number of times, and it ends each with exactly one reply. Every frame is a
/// CBOR map with text keys (see Wire.swift).
public enum HelperProtocolVersion {
    /// 2: status and probe replies carry one typed report per authenticator.
    /// 3: a probe names the security-key credentials to look for; ceremonies name their
    /// authenticator (`CeremonyTarget`); the helper tells the caller when a key waits for a touch.
    public static let current = 3
}

/// Backend-neutral description of a credential the host authenticator holds.
public struct HeldCredential: Equatable, Sendable {
    public var id: CredentialID
    public var rpID: String
    public var created: Int64
    /// Too many wrong PINs: refuses even the right one until replaced or unlocked.
    public var locked: Bool
    public var attemptsLeft: Int

    public init(id: CredentialID, rpID: String, created: Int64, locked: Bool, attemptsLeft: Int) {
        self.id = id
        self.rpID = rpID
        self.created = created
        self.locked = locked
        self.attemptsLeft = attemptsLeft
    }
}

/// What kind of authenticator a report is about. The host-bound kinds make passkeys that
/// belong to this computer; a security key travels with its owner.
public enum AuthenticatorKind: String, Sendable, CaseIterable {
    case software
    case tpm
    /// A roaming FIDO2 security key, through libfido2.
    case securityKey = "security_key"

    /// Whether its credentials are bound to this host.
    public var isHostBound: Bool { self != .securityKey }
}

/// Whether an authenticator can serve. Decided by the backend, where the fact is known, and
/// carried as this type over the wire: nobody downstream reads it back out of words.
public enum AuthenticatorCondition: Equatable, Sendable {
    case healthy
    /// Not here: the configured one is absent (no TPM answers at the TCTI) or cannot be reached.
    case unavailable(String)
    /// Here, but it cannot serve: its state is unreadable or unsafe, the TPM refuses, ….
    case broken(String)

    /// What is wrong, for administrators; nil when healthy.
    public var problem: String? {
        switch self {
        case .healthy: nil
        case .unavailable(let why), .broken(let why): why
        }
    }

    public var isHealthy: Bool { self == .healthy }

    /// The stable word for logs, JSON and the wire.
    public var code: String {
        switch self {
        case .healthy: "healthy"
        case .unavailable: "unavailable"
        case .broken: "broken"
        }
    }

    public init?(code: String, problem: String?) {
        switch (code, problem) {
        case ("healthy", nil): self = .healthy
        case ("unavailable", let why?): self = .unavailable(why)
        case ("broken", let why?): self = .broken(why)
        default: return nil
        }
    }
}

public struct AuthenticatorHealth: Equatable, Sendable {
    public var kind: AuthenticatorKind
    public var aaguid: [UInt8]
    public var condition: AuthenticatorCondition
    /// Why this backend serves (e.g. what `authenticator = auto` found), for administrators.
    public var detail: String?

    public var isHealthy: Bool { condition.isHealthy }
    public var problem: String? { condition.problem }

    public init(kind: AuthenticatorKind, aaguid: [UInt8], condition: AuthenticatorCondition, detail: String? = nil) {
        self.kind = kind
        self.aaguid = aaguid
        self.condition = condition
        self.detail = detail
    }
}

/// One authenticator as the helper found it: its health, and (for a probe) the credentials of
/// the asked-for user it holds. A probe or status reply carries one report per authenticator.
public struct AuthenticatorReport: Equatable, Sendable {
    public var health: AuthenticatorHealth
    /// Empty in a status reply, and whenever the authenticator is not healthy.
    public var held: [HeldCredential]

    public init(health: AuthenticatorHealth, held: [HeldCredential] = []) {
        self.health = health
        self.held = held
    }
}

extension Array where Element == AuthenticatorReport {
    /// The report of this host's own authenticator (software or TPM), if the helper sent one.
    public var hostAuthenticator: AuthenticatorReport? { first { $0.health.kind.isHostBound } }
}

/// Which authenticator a ceremony is for: this host's own (software or TPM, whichever the
/// policy chose), or a FIDO2 security key that is plugged in.
public enum CeremonyTarget: String, Equatable, Sendable {
    case host
    case securityKey = "security_key"
}

public struct MakeCredentialRequest: Equatable, Sendable {
    public var user: UserName
    public var rpID: String
    public var clientDataHash: [UInt8]
    /// The WebAuthn user handle (opaque, not the user name).
    public var userHandle: [UInt8]
    /// Heal path: an existing credential of this user that the new one replaces (deleted only
    /// after the new one exists).
    public var replacing: CredentialID?
    public var target: CeremonyTarget

    public init(user: UserName, rpID: String, clientDataHash: [UInt8], userHandle: [UInt8], replacing: CredentialID? = nil,
                target: CeremonyTarget = .host) {
        self.target = target
        self.user = user
        self.rpID = rpID
        self.clientDataHash = clientDataHash
        self.userHandle = userHandle
        self.replacing = replacing
    }
}

public struct GetAssertionRequest: Equatable, Sendable {
    public var user: UserName
    public var rpID: String
    public var clientDataHash: [UInt8]
    /// Credential ids the relying party accepts, most preferred first.
    public var allowCredentials: [CredentialID]
    public var target: CeremonyTarget

    public init(user: UserName, rpID: String, clientDataHash: [UInt8], allowCredentials: [CredentialID],
                target: CeremonyTarget = .host) {
        self.target = target
        self.user = user
        self.rpID = rpID
        self.clientDataHash = clientDataHash
        self.allowCredentials = allowCredentials
    }
}

/// Security-key credentials made for another relying party id than a probe's own (FreeIPA's
/// keys: the IPA domain), looked for with that id.
public struct SecurityKeyLookup: Equatable, Sendable {
    public var rpID: String
    public var credentials: [CredentialID]

    public init(rpID: String, credentials: [CredentialID]) {
        self.rpID = rpID
        self.credentials = credentials
    }
}

public enum HelperRequest: Equatable, Sendable {
    case status
    /// `securityKeyCredentials`: the user's roaming credentials, looked for on every security
    /// key present with a silent assertion (no touch, no PIN). Empty: keys are not looked at,
    /// unless `securityKeyPresence` asks which keys are plugged in (for an offer on a key).
    /// `otherRelyingParties`: roaming credentials of other relying party ids, each looked for
    /// with its own.
    case probe(user: UserName, rpID: String, securityKeyCredentials: [CredentialID] = [], securityKeyPresence: Bool = false,
               otherRelyingParties: [SecurityKeyLookup] = [])
    case makeCredential(MakeCredentialRequest)
    case getAssertion(GetAssertionRequest)
    case deleteCredential(user: UserName, credentialID: CredentialID)
    /// Clears the wrong-PIN counter (passkeyctl unlock); all of the user's credentials when
    /// credentialID is nil.
    case unlock(user: UserName, credentialID: CredentialID?)

    public var user: UserName? {
        switch self {
        case .status: return nil
        case .probe(let u, _, _, _, _), .deleteCredential(let u, _), .unlock(let u, _): return u
        case .makeCredential(let r): return r.user
        case .getAssertion(let r): return r.user
        }
    }
}

/// The helper asks its caller for a PIN; the caller decides the wording.
public enum PINQuestion: Equatable, Sendable {
    /// The PIN of an existing credential. `retry` after a wrong PIN.
    case existing(credentialID: CredentialID, attemptsLeft: Int, retry: Bool)
    /// A PIN for a new credential; `problem` says why the previous one was refused.
    case new(minLength: Int, problem: String?)
    /// The new PIN again.
    case confirm
    /// The PIN of the security key that holds the credential (the key counts the attempts:
    /// `retriesLeft` is what it reports). `retry` after a wrong PIN.
    case securityKey(retriesLeft: Int, retry: Bool)
}

/// What the helper tells its caller without waiting for an answer.
public enum HelperNotice: Equatable, Sendable {
    /// A security key waits up to `seconds` for a touch: show "Touch your security key", and
    /// wait that much longer for the helper's next message.
    case touch(seconds: Int)
}

public struct CreatedCredential: Equatable, Sendable {
    public var credentialID: CredentialID
    public var attestationObject: [UInt8]

    public init(credentialID: CredentialID, attestationObject: [UInt8]) {
        self.credentialID = credentialID
        self.attestationObject = attestationObject
    }
}

public struct Assertion: Equatable, Sendable {
    public var credentialID: CredentialID
    public var authenticatorData: [UInt8]
    public var signature: [UInt8]
    public var userHandle: [UInt8]?

    public init(credentialID: CredentialID, authenticatorData: [UInt8], signature: [UInt8], userHandle: [UInt8]?) {
        self.credentialID = credentialID
        self.authenticatorData = authenticatorData
        self.signature = signature
        self.userHandle = userHandle
    }
}

/// Why the helper could not do what was asked. `code` is stable (logs, JSON, tests).
public struct HelperFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// The user gave an empty answer to a PIN prompt: "use my password instead".
        case cancelled
        /// Wrong PIN (attemptsLeft says how many remain before the lock).
        case wrongPIN = "wrong_pin"
        /// Too many wrong PINs: locked until replaced or unlocked.
        case locked
        /// None of the allowed credentials is held here.
        case noCredential = "no_credential"
        /// A non-root caller asked for another account, or a forbidden operation.
        case notPermitted = "not_permitted"
        /// The request was malformed or of an unsupported protocol version.
        case badRequest = "bad_request"
        /// The authenticator cannot work (state unreadable, TPM gone…).
        case unavailable
        /// Anything else; the message says what.
        case internalError = "internal"
    }

    public var code: Code
    public var message: String
    public var attemptsLeft: Int?

    public init(_ code: Code, _ message: String, attemptsLeft: Int? = nil) {
        self.code = code
        self.message = message
        self.attemptsLeft = attemptsLeft
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

public enum HelperReply: Equatable, Sendable {
    /// One report per authenticator, held credentials empty.
    case status([AuthenticatorReport])
    /// One report per authenticator, with the asked-for user's credentials each holds.
    case probe([AuthenticatorReport])
    case created(CreatedCredential)
    case assertion(Assertion)
    case done
    case failure(HelperFailure)
}
