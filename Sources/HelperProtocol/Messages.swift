import Crypto

/// The vocabulary the module (or passkeyctl) and the helper speak. One request per helper
/// process; while serving it the helper may ask for PINs any number of times; it ends with
/// exactly one reply. Every frame is a CBOR map with text keys (see Wire.swift).
public enum HelperProtocolVersion {
    public static let current = 1
}

/// Backend-neutral description of a credential the host authenticator holds.
public struct HeldCredential: Equatable, Sendable {
    public var id: [UInt8]
    public var rpID: String
    public var created: Int64
    /// Too many wrong PINs: refuses even the right one until replaced or unlocked.
    public var locked: Bool
    public var attemptsLeft: Int

    public init(id: [UInt8], rpID: String, created: Int64, locked: Bool, attemptsLeft: Int) {
        self.id = id
        self.rpID = rpID
        self.created = created
        self.locked = locked
        self.attemptsLeft = attemptsLeft
    }
}

public struct AuthenticatorHealth: Equatable, Sendable {
    /// "software" or "tpm".
    public var backend: String
    public var aaguid: [UInt8]
    /// nil when healthy; otherwise what is wrong, for administrators.
    public var problem: String?
    /// Why this backend serves (e.g. what `authenticator = auto` found), for administrators.
    public var detail: String?

    public var isHealthy: Bool { problem == nil }

    public init(backend: String, aaguid: [UInt8], problem: String?, detail: String? = nil) {
        self.backend = backend
        self.aaguid = aaguid
        self.problem = problem
        self.detail = detail
    }
}

public struct MakeCredentialRequest: Equatable, Sendable {
    public var user: String
    public var rpID: String
    public var clientDataHash: [UInt8]
    /// The WebAuthn user handle (opaque, not the user name).
    public var userHandle: [UInt8]
    /// Heal path: an existing credential of this user that the new one replaces (deleted only
    /// after the new one exists).
    public var replacing: [UInt8]?

    public init(user: String, rpID: String, clientDataHash: [UInt8], userHandle: [UInt8], replacing: [UInt8]? = nil) {
        self.user = user
        self.rpID = rpID
        self.clientDataHash = clientDataHash
        self.userHandle = userHandle
        self.replacing = replacing
    }
}

public struct GetAssertionRequest: Equatable, Sendable {
    public var user: String
    public var rpID: String
    public var clientDataHash: [UInt8]
    /// Credential ids the relying party accepts, most preferred first.
    public var allowCredentials: [[UInt8]]

    public init(user: String, rpID: String, clientDataHash: [UInt8], allowCredentials: [[UInt8]]) {
        self.user = user
        self.rpID = rpID
        self.clientDataHash = clientDataHash
        self.allowCredentials = allowCredentials
    }
}

public enum HelperRequest: Equatable, Sendable {
    case status
    case probe(user: String, rpID: String)
    case makeCredential(MakeCredentialRequest)
    case getAssertion(GetAssertionRequest)
    case deleteCredential(user: String, credentialID: [UInt8])
    /// Clears the wrong-PIN counter (passkeyctl unlock); all of the user's credentials when
    /// credentialID is nil.
    case unlock(user: String, credentialID: [UInt8]?)

    public var user: String? {
        switch self {
        case .status: return nil
        case .probe(let u, _), .deleteCredential(let u, _), .unlock(let u, _): return u
        case .makeCredential(let r): return r.user
        case .getAssertion(let r): return r.user
        }
    }
}

/// The helper asks its caller for a PIN; the caller decides the wording.
public enum PINQuestion: Equatable, Sendable {
    /// The PIN of an existing credential. `retry` after a wrong PIN.
    case existing(credentialID: [UInt8], attemptsLeft: Int, retry: Bool)
    /// A PIN for a new credential; `problem` says why the previous one was refused.
    case new(minLength: Int, problem: String?)
    /// The new PIN again.
    case confirm
}

public struct CreatedCredential: Equatable, Sendable {
    public var credentialID: [UInt8]
    public var attestationObject: [UInt8]

    public init(credentialID: [UInt8], attestationObject: [UInt8]) {
        self.credentialID = credentialID
        self.attestationObject = attestationObject
    }
}

public struct Assertion: Equatable, Sendable {
    public var credentialID: [UInt8]
    public var authenticatorData: [UInt8]
    public var signature: [UInt8]
    public var userHandle: [UInt8]?

    public init(credentialID: [UInt8], authenticatorData: [UInt8], signature: [UInt8], userHandle: [UInt8]?) {
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
    case status(AuthenticatorHealth)
    case probe(AuthenticatorHealth, [HeldCredential])
    case created(CreatedCredential)
    case assertion(Assertion)
    case done
    case failure(HelperFailure)
}
