// Decoding for JSONCoding.decode: a JSONValue read through Swift's Decoder protocols.

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    let expected: String
    switch type {
    case is Bool.Type: expected = "a boolean"
    case is String.Type: expected = "a string"
    case is [Any].Type: expected = "an array"
    case is [String: Any].Type: expected = "an object"
    default: expected = "a number (\(type))"
    }
    return .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(expected), found \(value.kind)"))
}

private func boolean(_ value: JSONValue, _ path: [any CodingKey]) throws -> Bool {
    guard case .bool(let b) = value else { throw mismatch(Bool.self, value, path) }
    return b
}

private func text(_ value: JSONValue, _ path: [any CodingKey]) throws -> String {
    guard case .string(let s) = value else { throw mismatch(String.self, value, path) }
    return s
}

/// An integer written as one (no fraction, no exponent) that fits `T`.
private func integer<T: FixedWidthInteger>(_ value: JSONValue, _ path: [any CodingKey]) throws -> T {
    guard case .number(let text) = value else { throw mismatch(T.self, value, path) }
    guard let v = T(text, radix: 10) else {
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(text) is not a whole number that fits \(T.self)"))
    }
    return v
}

private func floating<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: JSONValue, _ path: [any CodingKey]) throws -> T {
    guard case .number(let text) = value else { throw mismatch(T.self, value, path) }
    guard let v = T(text), v.isFinite else {
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(text) does not fit \(T.self)"))
    }
    return v
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedValueDecoder<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([Any].self, value, codingPath) }
        return UnkeyedValueDecoder(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueDecoder(value: value, codingPath: codingPath)
    }
}

struct KeyedValueDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// Documents have a handful of members: a linear search beats building a dictionary.
    let members: [(String, JSONValue)]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.0) } }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func lookup(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        for (k, v) in members where k == name { return v }
        return nil
    }

    private func member(_ key: Key) throws -> JSONValue {
        guard let v = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member \"\(key.stringValue)\""))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try boolean(member(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try text(member(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try floating(member(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try floating(member(key), codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(member(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(member(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(member(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(member(key), codingPath + [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: ValueDecoder(value: member(key), codingPath: codingPath + [key]))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = PathKey(stringValue: "super")
        var value = JSONValue.null
        for (k, v) in members where k == key.stringValue { value = v; break }
        return ValueDecoder(value: value, codingPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key])
    }
}

struct UnkeyedValueDecoder: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var path: [any CodingKey] { codingPath + [PathKey(intValue: currentIndex)] }

    private mutating func next<T>(_ type: T.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the array has only \(elements.count) elements"))
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    private mutating func take<T>(_ body: (JSONValue, [any CodingKey]) throws -> T) throws -> T {
        let here = path
        let v = try body(next(T.self), here)
        return v
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try take(boolean) }
    mutating func decode(_ type: String.Type) throws -> String { try take(text) }
    mutating func decode(_ type: Double.Type) throws -> Double { try take(floating) }
    mutating func decode(_ type: Float.Type) throws -> Float { try take(floating) }
    mutating func decode(_ type: Int.Type) throws -> Int { try take(integer) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try take(integer) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try take(integer) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try take(integer) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try take(integer) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try take(integer) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try take(integer) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try take(integer) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try take(integer) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try take(integer) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try take { value, path in try T(from: ValueDecoder(value: value, codingPath: path)) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try take { value, path in try ValueDecoder(value: value, codingPath: path).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try take { value, path in try ValueDecoder(value: value, codingPath: path).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try take { value, path in ValueDecoder(value: value, codingPath: path) }
    }
}

struct SingleValueDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try boolean(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try text(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try floating(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try floating(value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try integer(value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(value, codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: codingPath))
    }
}
