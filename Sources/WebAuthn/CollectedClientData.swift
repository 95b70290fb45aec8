import Identifiers
import JSON

/// clientDataJSON (WebAuthn §5.8.1): what the client says it asked the authenticator to
/// sign. Its SHA-256 is signed together with authenticatorData, so the relying party checks
/// the parsed fields and hashes the exact bytes it received.
public struct CollectedClientData: Hashable, Sendable {
    public static let createType = "webauthn.create"
    public static let getType = "webauthn.get"

    public let type: String
    public let challenge: [UInt8]
    public let origin: String
    public let crossOrigin: Bool?
    public let topOrigin: String?

    /// Parses clientDataJSON. Members other than these five are ignored, as the
    /// specification requires (clients may add more, e.g. "other_keys_can_be_added_here").
    public init(json: [UInt8]) throws(ClientDataError) {
        let value: JSONValue
        do { value = try JSONValue.parse(json) } catch { throw .json(error) }
        guard case .object = value else { throw .notAnObject }

        func string(_ name: String) throws(ClientDataError) -> String? {
            switch value[member: name] {
            case nil: return nil
            case .string(let s)?: return s
            default: throw .memberWrongType(name, expected: "string")
            }
        }
        func required(_ name: String) throws(ClientDataError) -> String {
            guard let s = try string(name) else { throw .missingMember(name) }
            return s
        }

        self.type = try required("type")
        let challenge = try required("challenge")
        guard let challengeBytes = Base64URL.decode(challenge) else { throw .challengeNotBase64URL }
        self.challenge = challengeBytes
        self.origin = try required("origin")
        switch value[member: "crossOrigin"] {
        case nil: self.crossOrigin = nil
        case .bool(let b)?: self.crossOrigin = b
        default: throw .memberWrongType("crossOrigin", expected: "boolean")
        }
        self.topOrigin = try string("topOrigin")
    }

    /// The clientDataJSON our relying party presents to the authenticator:
    /// `{"type":…,"challenge":…,"origin":…,"crossOrigin":false}`, compact, in the order and
    /// with the string escaping of the specification's serialization (§5.8.1.1), so that any
    /// verifier that re-serialises it gets the same bytes.
    public static func make(type: String, challenge: [UInt8], origin: String) -> [UInt8] {
        var out = Array(#"{"type":"#.utf8)
        appendJSONString(type, to: &out)
        out += Array(#","challenge":"#.utf8)
        appendJSONString(Base64URL.encode(challenge), to: &out)
        out += Array(#","origin":"#.utf8)
        appendJSONString(origin, to: &out)
        out += Array(#","crossOrigin":false}"#.utf8)
        return out
    }

    /// §5.8.1.1 "serialize a JSON string": quote and backslash escaped, other code points
    /// below U+0020 as \u00XX with lowercase hex, everything else as UTF-8.
    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(0x22)
        for byte in s.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x00..<0x20: out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}

public enum ClientDataError: Error, Equatable, Sendable, CustomStringConvertible {
    case json(JSONError)
    case notAnObject
    case missingMember(String)
    case memberWrongType(String, expected: String)
    case challengeNotBase64URL

    public var description: String {
        switch self {
        case .json(let e): return "clientDataJSON is not valid JSON: \(e)"
        case .notAnObject: return "clientDataJSON is not a JSON object"
        case .missingMember(let name): return "clientDataJSON has no \"\(name)\" member"
        case .memberWrongType(let name, let expected): return "clientDataJSON member \"\(name)\" is not a \(expected)"
        case .challengeNotBase64URL: return "clientDataJSON challenge is not unpadded base64url"
        }
    }
}
