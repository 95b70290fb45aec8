/// Why bytes were refused as CBOR. Offsets count from the first byte handed to the decoder.
public enum CBORError: Error, Equatable, Sendable, CustomStringConvertible {
    /// CBOR features outside the subset WebAuthn uses.
    public enum Unsupported: Equatable, Sendable {
        case float
        case tag
        case undefined
        /// A simple value other than false, true and null.
        case simpleValue
        /// Additional information 28–30 (reserved), or 31 on an integer.
        case reservedAdditionalInfo
        /// The "break" stop code, which only ends an indefinite-length item.
        case breakCode
    }

    /// The input ended inside an item's head.
    case truncated(offset: Int)
    /// A string, array or map declares more content than the input holds.
    case lengthBeyondInput(offset: Int, declared: UInt64)
    /// More bytes follow the one top-level item.
    case trailingBytes(offset: Int, count: Int)
    case indefiniteLength(offset: Int)
    /// An integer or length written in more bytes than it needs. Refused so that every value
    /// has exactly one encoding (the CTAP2 canonical form authenticators must produce).
    case nonMinimalEncoding(offset: Int)
    case duplicateMapKey(offset: Int)
    case nestingTooDeep(offset: Int, limit: Int)
    case invalidUTF8(offset: Int)
    case unsupported(Unsupported, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let o):
            return "CBOR input ends inside the item starting at byte \(o)"
        case .lengthBeyondInput(let o, let n):
            return "CBOR item at byte \(o) declares a length of \(n), beyond the end of the input"
        case .trailingBytes(let o, let n):
            return "\(n) unexpected byte(s) after the CBOR item, starting at byte \(o)"
        case .indefiniteLength(let o):
            return "indefinite-length CBOR item at byte \(o) is not allowed"
        case .nonMinimalEncoding(let o):
            return "CBOR integer or length at byte \(o) is not in its shortest form"
        case .duplicateMapKey(let o):
            return "CBOR map key at byte \(o) repeats an earlier key"
        case .nestingTooDeep(let o, let limit):
            return "CBOR item at byte \(o) is nested deeper than \(limit) levels"
        case .invalidUTF8(let o):
            return "CBOR text string at byte \(o) is not valid UTF-8"
        case .unsupported(let what, let o):
            let name: String
            switch what {
            case .float: name = "floating-point value"
            case .tag: name = "tag"
            case .undefined: name = "undefined"
            case .simpleValue: name = "simple value"
            case .reservedAdditionalInfo: name = "reserved additional information"
            case .breakCode: name = "break stop code"
            }
            return "CBOR \(name) at byte \(o) is not supported"
        }
    }
}
