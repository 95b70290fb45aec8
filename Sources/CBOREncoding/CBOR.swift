/// A CBOR data item (RFC 8949) from the subset WebAuthn uses: integers, byte and text
/// strings, arrays, maps, booleans and null. Floats, tags, `undefined` and indefinite
/// lengths are deliberately absent: no WebAuthn structure needs them, and each one would be
/// parser surface that runs on bytes an attacker chose.
///
/// Maps are dictionaries: the decoder refuses duplicate keys, and the encoder writes keys in
/// CTAP2 canonical order, so the order a map was received in carries no meaning. Text keys
/// compare as Swift strings (Unicode canonical equivalence): two keys that differ only in
/// normalisation count as one, and a map holding both is refused as a duplicate.
///
/// Not `indirect`: arrays and dictionaries already hold their elements out of line, and
/// boxing every case would cost an allocation per integer (and hides the boxes from
/// LeakSanitizer, whose pointer scan cannot see through the enum's tag bits).
public enum CBOR: Hashable, Sendable {
    case unsigned(UInt64)
    /// The integer `-1 - n`; `.negative(0)` is -1 and `.negative(UInt64.max)` is -2^64.
    case negative(UInt64)
    case byteString([UInt8])
    case textString(String)
    case array([CBOR])
    case map([CBOR: CBOR])
    case bool(Bool)
    case null
}

// MARK: - Building

extension CBOR {
    public static func text(_ string: String) -> CBOR { .textString(string) }
    public static func bytes(_ bytes: [UInt8]) -> CBOR { .byteString(bytes) }
    public static func int(_ value: Int64) -> CBOR {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }
}

extension CBOR: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(stringLiteral value: String) { self = .textString(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: CBOR...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (CBOR, CBOR)...) { self = .map(Dictionary(uniqueKeysWithValues: elements)) }
}

// MARK: - Reading

extension CBOR {
    /// The value for `key` when this is a map.
    public subscript(key: CBOR) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries[key]
    }

    /// The integer, when it fits an `Int64`.
    public var intValue: Int64? {
        switch self {
        case .unsigned(let n): return n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): return n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: return nil
        }
    }

    public var bytesValue: [UInt8]? {
        if case .byteString(let b) = self { return b }
        return nil
    }

    public var textValue: String? {
        if case .textString(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [CBOR]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var mapValue: [CBOR: CBOR]? {
        if case .map(let m) = self { return m }
        return nil
    }

    /// The CBOR major type's name, for error messages.
    var kindName: String {
        switch self {
        case .unsigned, .negative: return "integer"
        case .byteString: return "byte string"
        case .textString: return "text string"
        case .array: return "array"
        case .map: return "map"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}
