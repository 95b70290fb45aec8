/// Codable to and from `JSONValue`, for the documents pam_passkey stores (registry records,
/// host history, keyrings). The Codable conformances stay the ones Swift synthesises; only
/// the encoder and decoder are ours, so the module and the helper do not link Foundation.
///
/// Encoding: object keys sorted by their UTF-8 bytes (files diff well and are written the
/// same way every time); nil optionals left out; non-finite floating point refused.
/// Decoding: unknown members ignored (a newer minor version may add some); integers must be
/// written as integers that fit the type; errors are `DecodingError`s with the coding path.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = EncodingNode()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        return root.finished()
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

// MARK: - Encoding

/// What one encoder or container writes to: a single value, an object or an array.
final class EncodingNode {
    var single: JSONValue?
    var members: [String: EncodingNode]?
    var elements: [EncodingNode]?

    func finished() -> JSONValue {
        if let members {
            return .object(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value.finished()) })
        }
        if let elements { return .array(elements.map { $0.finished() }) }
        // A type that asked for no container at all encodes as an empty object.
        return single ?? .object([])
    }
}

/// A coding path element the containers make themselves: an array index, or "super".
struct PathKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(intValue: Int) { self.intValue = intValue; stringValue = String(intValue) }
    init(stringValue: String) { intValue = nil; self.stringValue = stringValue }
}

private func scalar<F: BinaryFloatingPoint & LosslessStringConvertible>(_ v: F, _ path: [any CodingKey]) throws -> JSONValue {
    guard v.isFinite else {
        throw EncodingError.invalidValue(v, .init(codingPath: path, debugDescription: "\(v) cannot be written as JSON"))
    }
    return .number(v.description)
}

struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.members == nil { node.members = [:] }
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.elements == nil { node.elements = [] }
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeEncoder(node: node, codingPath: codingPath)
    }
}

struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> EncodingNode {
        let child = EncodingNode()
        node.members?[key.stringValue] = child
        return child
    }
    private func put(_ value: JSONValue, _ key: Key) { child(key).single = value }

    mutating func encodeNil(forKey key: Key) { put(.null, key) }
    mutating func encode(_ v: Bool, forKey key: Key) { put(.bool(v), key) }
    mutating func encode(_ v: String, forKey key: Key) { put(.string(v), key) }
    mutating func encode(_ v: Double, forKey key: Key) throws { put(try scalar(v, codingPath + [key]), key) }
    mutating func encode(_ v: Float, forKey key: Key) throws { put(try scalar(v, codingPath + [key]), key) }
    mutating func encode(_ v: Int, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: Int8, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: Int16, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: Int32, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: Int64, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: UInt, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: UInt8, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: UInt16, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: UInt32, forKey key: Key) { put(.number(String(v)), key) }
    mutating func encode(_ v: UInt64, forKey key: Key) { put(.number(String(v)), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try value.encode(to: NodeEncoder(node: child(key), codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = PathKey(stringValue: "super")
        let child = EncodingNode()
        node.members?["super"] = child
        return NodeEncoder(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: child(key), codingPath: codingPath + [key])
    }
}

/// The unkeyed and single-value containers write a scalar the same way; only where it goes
/// (`put`) and the path an error names (`scalarPath`) differ.
protocol ScalarWriting {
    func put(_ value: JSONValue)
    var scalarPath: [any CodingKey] { get }
}

extension ScalarWriting {
    func encodeNil() { put(.null) }
    func encode(_ v: Bool) { put(.bool(v)) }
    func encode(_ v: String) { put(.string(v)) }
    func encode(_ v: Double) throws { put(try scalar(v, scalarPath)) }
    func encode(_ v: Float) throws { put(try scalar(v, scalarPath)) }
    func encode(_ v: Int) { put(.number(String(v))) }
    func encode(_ v: Int8) { put(.number(String(v))) }
    func encode(_ v: Int16) { put(.number(String(v))) }
    func encode(_ v: Int32) { put(.number(String(v))) }
    func encode(_ v: Int64) { put(.number(String(v))) }
    func encode(_ v: UInt) { put(.number(String(v))) }
    func encode(_ v: UInt8) { put(.number(String(v))) }
    func encode(_ v: UInt16) { put(.number(String(v))) }
    func encode(_ v: UInt32) { put(.number(String(v))) }
    func encode(_ v: UInt64) { put(.number(String(v))) }
}

struct UnkeyedNodeEncoder: UnkeyedEncodingContainer, ScalarWriting {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.elements?.count ?? 0 }

    private func next() -> (EncodingNode, [any CodingKey]) {
        let child = EncodingNode()
        let path = codingPath + [PathKey(intValue: count)]
        node.elements?.append(child)
        return (child, path)
    }
    func put(_ value: JSONValue) { next().0.single = value }
    /// Where the next element will be.
    var scalarPath: [any CodingKey] { codingPath + [PathKey(intValue: count)] }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let (child, path) = next()
        try value.encode(to: NodeEncoder(node: child, codingPath: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let (child, path) = next()
        return NodeEncoder(node: child, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let (child, path) = next()
        return NodeEncoder(node: child, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let (child, path) = next()
        return NodeEncoder(node: child, codingPath: path)
    }
}

struct SingleNodeEncoder: SingleValueEncodingContainer, ScalarWriting {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    func put(_ value: JSONValue) { node.single = value }
    var scalarPath: [any CodingKey] { codingPath }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
    }
}
