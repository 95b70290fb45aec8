extension CBOR {
    /// Containers nest at most this deep. WebAuthn structures nest three or four levels; the
    /// limit keeps recursion on hostile input bounded.
    public static let maximumNesting = 16

    /// Decodes exactly one item that spans all of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(CBORError) -> CBOR {
        let (item, length) = try decodePrefix(bytes)
        guard length == bytes.count else { throw .trailingBytes(offset: length, count: bytes.count - length) }
        return item
    }

    /// Decodes the one item at the start of `bytes` and says how many bytes it took; what
    /// follows is left to the caller. authenticatorData needs this: the credential public key
    /// is a CBOR item with more bytes after it, and only its own encoding tells where it ends.
    public static func decodePrefix<C: Collection<UInt8>>(_ bytes: C) throws(CBORError) -> (value: CBOR, length: Int) {
        var reader = CBORReader(bytes: Array(bytes))
        let item = try reader.readItem(depth: 1)
        return (item, reader.position)
    }
}

/// The decoding state: a position in the input and nothing else.
struct CBORReader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private var remaining: Int { bytes.count - position }

    mutating func readItem(depth: Int) throws(CBORError) -> CBOR {
        let start = position
        guard depth <= CBOR.maximumNesting else { throw .nestingTooDeep(offset: start, limit: CBOR.maximumNesting) }
        guard position < bytes.count else { throw .truncated(offset: start) }
        let initial = bytes[position]
        position += 1
        let major = initial >> 5
        let info = initial & 0x1F

        switch major {
        case 6:
            throw .unsupported(.tag, offset: start)
        case 7:
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: throw .unsupported(.undefined, offset: start)
            case 25, 26, 27: throw .unsupported(.float, offset: start)
            case 31: throw .unsupported(.breakCode, offset: start)
            case 28, 29, 30: throw .unsupported(.reservedAdditionalInfo, offset: start)
            default: throw .unsupported(.simpleValue, offset: start)
            }
        default:
            break
        }

        if info == 31 {
            if major >= 2 { throw .indefiniteLength(offset: start) }
            throw .unsupported(.reservedAdditionalInfo, offset: start)
        }
        let argument = try readArgument(info: info, start: start)

        switch major {
        case 0:
            return .unsigned(argument)
        case 1:
            return .negative(argument)
        case 2:
            return .byteString(Array(try readContent(length: argument, start: start)))
        case 3:
            let content = try readContent(length: argument, start: start)
            guard let text = String(validating: content, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
            return .textString(text)
        case 4:
            // Every element takes at least one byte: a count beyond the input is refused
            // before anything is allocated for it.
            guard argument <= UInt64(remaining) else { throw .lengthBeyondInput(offset: start, declared: argument) }
            var elements: [CBOR] = []
            elements.reserveCapacity(Int(argument))
            for _ in 0..<argument { elements.append(try readItem(depth: depth + 1)) }
            return .array(elements)
        default:  // 5
            guard argument <= UInt64(remaining / 2) else { throw .lengthBeyondInput(offset: start, declared: argument) }
            var entries: [CBOR: CBOR] = [:]
            entries.reserveCapacity(Int(argument))
            for _ in 0..<argument {
                let keyOffset = position
                let key = try readItem(depth: depth + 1)
                let value = try readItem(depth: depth + 1)
                guard entries.updateValue(value, forKey: key) == nil else { throw .duplicateMapKey(offset: keyOffset) }
            }
            return .map(entries)
        }
    }

    /// The head's argument: the integer value, or the length of a string or container.
    private mutating func readArgument(info: UInt8, start: Int) throws(CBORError) -> UInt64 {
        let width: Int
        let minimum: UInt64
        switch info {
        case 0...23: return UInt64(info)
        case 24: width = 1; minimum = 24
        case 25: width = 2; minimum = 0x100
        case 26: width = 4; minimum = 0x1_0000
        case 27: width = 8; minimum = 0x1_0000_0000
        default: throw .unsupported(.reservedAdditionalInfo, offset: start)
        }
        guard remaining >= width else { throw .truncated(offset: start) }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(bytes[position + i]) }
        position += width
        guard value >= minimum else { throw .nonMinimalEncoding(offset: start) }
        return value
    }

    private mutating func readContent(length: UInt64, start: Int) throws(CBORError) -> ArraySlice<UInt8> {
        guard length <= UInt64(remaining) else { throw .lengthBeyondInput(offset: start, declared: length) }
        let end = position + Int(length)
        defer { position = end }
        return bytes[position..<end]
    }
}
