import CBOREncoding
import Crypto

/// The attestation object a registration returns (WebAuthn §6.5.4):
/// `{"fmt": text, "attStmt": map, "authData": bytes}`.
public struct AttestationObject: Hashable, Sendable {
    public static let noneFormat = "none"
    public static let packedFormat = "packed"

    public let fmt: String
    /// The format-specific statement; always a map.
    public let attStmt: CBOR
    /// Parsed, with the exact bytes in `authData.rawBytes`.
    public let authData: AuthenticatorData

    public init(fmt: String, attStmt: CBOR, authData: AuthenticatorData) {
        self.fmt = fmt
        self.attStmt = attStmt
        self.authData = authData
    }

    /// Parses strictly: one CBOR map with the three members of the right types. Other
    /// members are ignored (CTAP responses may carry e.g. epAtt).
    public init(bytes: [UInt8]) throws(AttestationObjectError) {
        let item: CBOR
        do { item = try CBOR.decode(bytes) } catch { throw .malformedCBOR(error) }
        guard case .map = item else { throw .notAMap }
        guard let fmtItem = item["fmt"] else { throw .missingMember("fmt") }
        guard let fmt = fmtItem.textValue else { throw .memberWrongType("fmt", expected: "text string") }
        guard let attStmt = item["attStmt"] else { throw .missingMember("attStmt") }
        guard attStmt.mapValue != nil else { throw .memberWrongType("attStmt", expected: "map") }
        guard let authItem = item["authData"] else { throw .missingMember("authData") }
        guard let authBytes = authItem.bytesValue else { throw .memberWrongType("authData", expected: "byte string") }
        let authData: AuthenticatorData
        do { authData = try AuthenticatorData(bytes: authBytes) } catch { throw .authenticatorData(error) }
        self.init(fmt: fmt, attStmt: attStmt, authData: authData)
    }

    /// Canonical CBOR; authData is written as the exact bytes it holds.
    public var encoded: [UInt8] {
        CBOR.map(["fmt": .textString(fmt), "attStmt": attStmt, "authData": .byteString(authData.rawBytes)]).encoded()
    }

    /// "none" attestation: no statement at all.
    public static func none(authData: AuthenticatorData) -> AttestationObject {
        AttestationObject(fmt: noneFormat, attStmt: .map([:]), authData: authData)
    }

    /// "packed" self attestation (§8.2): the credential's own key signs
    /// `authData ‖ clientDataHash`, proving possession without naming the authenticator.
    public static func packedSelf(authData: AuthenticatorData, clientDataHash: [UInt8],
                                  key: P256PrivateKey) throws(CryptoError) -> AttestationObject {
        let signature = try key.signature(for: signedBytes(authenticatorData: authData.rawBytes, clientDataHash: clientDataHash))
        return AttestationObject(fmt: packedFormat,
                                 attStmt: ["alg": .int(COSEKey.es256), "sig": .byteString(signature.derRepresentation)],
                                 authData: authData)
    }
}

public enum AttestationObjectError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedCBOR(CBORError)
    case notAMap
    case missingMember(String)
    case memberWrongType(String, expected: String)
    case authenticatorData(AuthenticatorDataError)

    public var description: String {
        switch self {
        case .malformedCBOR(let e): return "attestation object is not valid CBOR: \(e)"
        case .notAMap: return "attestation object is not a CBOR map"
        case .missingMember(let name): return "attestation object has no \"\(name)\" member"
        case .memberWrongType(let name, let expected): return "attestation object member \"\(name)\" is not a \(expected)"
        case .authenticatorData(let e): return e.description
        }
    }
}
