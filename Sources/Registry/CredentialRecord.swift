import Identifiers
import Storage

/// When something happened, and on which host (its name, as users know it).
public struct HostEvent: Codable, Sendable, Equatable {
    public var time: EpochSeconds
    public var host: String

    public init(time: EpochSeconds, host: String) {
        self.time = time
        self.host = host
    }
}

/// A signature whose counter did not grow past the one recorded: a replay, or a copy of the
/// authenticator's key used somewhere else (a clone). The login was refused.
public struct SignCountRegression: Codable, Sendable, Equatable {
    public var time: EpochSeconds
    public var host: String
    /// The counter the registry held, and the one the signature carried.
    public var stored: UInt32
    public var received: UInt32

    public init(time: EpochSeconds, host: String, stored: UInt32, received: UInt32) {
        self.time = time
        self.host = host
        self.stored = stored
        self.received = received
    }
}

/// One WebAuthn credential of a user, as the registry keeps it: public data only.
///
/// Binary values are base64url without padding (as WebAuthn writes them), so the file stays
/// text and the values can be pasted into any WebAuthn tool. `attestationObject` and
/// `clientDataJSON` are kept exactly as registered, so any WebAuthn library can verify the
/// registration again later.
public struct CredentialRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Held by a host authenticator (TPM or software): usable only on `hostID`.
        case platform
        /// A security key the user carries: `hostID` is where it was registered.
        case roaming
    }

    /// The credential id (base64url in the file).
    public var id: CredentialID
    /// The COSE_Key bytes from the attested credential data, base64url.
    public var publicKey: String
    /// COSE algorithm identifier: -7 is ES256.
    public var algorithm: Int
    public var kind: Kind
    /// The keyed hash of the host it was created on (see HostIdentity); never a raw machine id.
    public var hostID: String
    public var hostName: String
    /// The authenticator model's AAGUID in its usual UUID form (all zeros when none).
    public var aaguid: String
    /// The BE and BS flags at registration: whether the credential may be synced, and is.
    public var backupEligible: Bool
    public var backedUp: Bool
    /// WebAuthn transport hints ("internal", "usb", "nfc", …).
    public var transports: [String]
    /// The last signature counter seen; a lower one later means a cloned authenticator.
    public var signCount: UInt32
    public var created: HostEvent
    public var lastUsed: HostEvent?
    /// The user's or administrator's name for it ("alice on host-b").
    public var label: String
    /// A revoked credential stays in the file (its history matters) but is never used.
    public var revoked: Bool
    public var revokedAt: EpochSeconds?
    /// Who revoked it (an administrator's name, or the host that replaced it).
    public var revokedBy: String?
    /// The last refused signature whose counter went backwards (nil: none ever).
    public var signCountRegression: SignCountRegression?
    /// From the registration, base64url, unmodified.
    public var attestationObject: String
    public var clientDataJSON: String
    /// Where the record comes from when it is not this registry's own (absent: it is).
    public var source: CredentialSource?
    /// The relying party id the credential was made for, when it is not the policy's rp_id
    /// (FreeIPA's security keys: the IPA domain). Absent: rp_id.
    public var rpID: String?

    public init(id: CredentialID, publicKey: String, algorithm: Int = -7, kind: Kind, hostID: String, hostName: String,
                aaguid: String, backupEligible: Bool = false, backedUp: Bool = false, transports: [String] = [],
                signCount: UInt32 = 0, created: HostEvent, lastUsed: HostEvent? = nil, label: String = "",
                revoked: Bool = false, revokedAt: EpochSeconds? = nil, revokedBy: String? = nil,
                attestationObject: String, clientDataJSON: String, source: CredentialSource? = nil, rpID: String? = nil) {
        self.id = id
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.kind = kind
        self.hostID = hostID
        self.hostName = hostName
        self.aaguid = aaguid
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.transports = transports
        self.signCount = signCount
        self.created = created
        self.lastUsed = lastUsed
        self.label = label
        self.revoked = revoked
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
        self.attestationObject = attestationObject
        self.clientDataJSON = clientDataJSON
        self.source = source
        self.rpID = rpID
    }

    /// Whether it may be used to sign in.
    public var isActive: Bool { !revoked }

    /// Read from another system that owns it (FreeIPA): this host may use it to sign in, but
    /// never writes it back; its counter and last use are kept in this host's cache only.
    public var isForeign: Bool { source != nil }

    /// The relying party id to ask the authenticator for and to verify against.
    public func relyingPartyID(default policyRPID: String) -> String { rpID ?? policyRPID }
}

/// Where a credential record comes from when it is not the registry's own.
public enum CredentialSource: String, Codable, Sendable {
    /// A security key registered in FreeIPA (`ipa user-add-passkey`), read from the user's
    /// ipaPassKey values by pam_passkey_directory. Removed with `ipa user-remove-passkey`.
    case freeipa

    /// How passkeyctl and explain name it.
    public var displayName: String {
        switch self {
        case .freeipa: "FreeIPA"
        }
    }
}
