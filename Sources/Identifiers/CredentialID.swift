/// A WebAuthn credential id: the bytes an authenticator chose, carried as one type from the
/// helper's reply to the registry file. Its text form is unpadded base64url (as WebAuthn and
/// the registry write it), and only the canonical spelling is accepted, so one credential has
/// one text and two texts are never the same credential.
///
/// Ids are public: they are logged and shown, shortened the same way everywhere (`short`).
public struct CredentialID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// WebAuthn's limit on a credential id (§6.1: credentialIdLength at most 1023).
    public static let maxBytes = 1023

    public let bytes: [UInt8]

    /// The id an authenticator returned. Callers that read bytes from outside check the length
    /// (`init(checking:)`); this one is for ids the program made or already checked.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bytes from outside (a wire message, authenticatorData): 1 to 1023 of them.
    public init(checking bytes: [UInt8]) throws(InvalidCredentialID) {
        guard !bytes.isEmpty, bytes.count <= Self.maxBytes else {
            throw InvalidCredentialID(text: "\(bytes.count) bytes", reason: "a credential id is 1 to \(Self.maxBytes) bytes")
        }
        self.bytes = bytes
    }

    /// The text form as the registry and `passkeyctl list` write it.
    public init(base64url text: String) throws(InvalidCredentialID) {
        guard let bytes = Base64URL.decode(text) else {
            throw InvalidCredentialID(text: text, reason: "it is not unpadded base64url")
        }
        try self.init(checking: bytes)
    }

    /// Unpadded base64url.
    public var text: String { Base64URL.encode(bytes) }
    public var description: String { text }

    /// The start of the id, the same wherever one is shown (syslog, explain, passkeyctl's
    /// messages), so an administrator can match them: the first 10 characters and "…" (ids in
    /// `passkeyctl list` are whole; any unique start selects one in `revoke --credential`).
    public var short: String { Self.shortened(text) }

    /// `short` for text that may be only the start of an id (what someone typed).
    public static func shortened(_ text: String) -> String {
        text.count > 12 ? String(text.prefix(10)) + "…" : text
    }

    public static func < (a: CredentialID, b: CredentialID) -> Bool { a.text < b.text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(base64url: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// Text or bytes that are not a credential id.
public struct InvalidCredentialID: Error, Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String { "invalid credential id \(escapedForLog(text)): \(reason)" }
}
