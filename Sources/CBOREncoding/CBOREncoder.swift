extension CBOR {
    /// The CTAP2 canonical encoding: shortest heads, definite lengths, and map keys ordered by
    /// their encoding (shorter first, then bytewise). Authenticators must produce this form,
    /// and a signature over a re-encoded structure only verifies if everyone encodes alike.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    func encode(into out: inout [UInt8]) {
        switch self {
        case .unsigned(let n):
            Self.appendHead(major: 0, argument: n, to: &out)
        case .negative(let n):
            Self.appendHead(major: 1, argument: n, to: &out)
        case .byteString(let bytes):
            Self.appendHead(major: 2, argument: UInt64(bytes.count), to: &out)
            out += bytes
        case .textString(let text):
            let utf8 = Array(text.utf8)
            Self.appendHead(major: 3, argument: UInt64(utf8.count), to: &out)
            out += utf8
        case .array(let elements):
            Self.appendHead(major: 4, argument: UInt64(elements.count), to: &out)
            for element in elements { element.encode(into: &out) }
        case .map(let entries):
            Self.appendHead(major: 5, argument: UInt64(entries.count), to: &out)
            let sorted = entries.map { (key: $0.key.encoded(), value: $0.value) }
                .sorted { Self.canonicallyPrecedes($0.key, $1.key) }
            for entry in sorted {
                out += entry.key
                entry.value.encode(into: &out)
            }
        case .bool(let b):
            out.append(b ? 0xF5 : 0xF4)
        case .null:
            out.append(0xF6)
        }
    }

    /// CTAP2 canonical key order: a shorter encoding sorts first; equal lengths sort bytewise.
    static func canonicallyPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a.count != b.count { return a.count < b.count }
        return a.lexicographicallyPrecedes(b)
    }

    private static func appendHead(major: UInt8, argument: UInt64, to out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24:
            out.append(type | UInt8(argument))
        case 24...0xFF:
            out += [type | 24, UInt8(argument)]
        case 0x100...0xFFFF:
            out.append(type | 25)
            appendBigEndian(argument, width: 2, to: &out)
        case 0x1_0000...0xFFFF_FFFF:
            out.append(type | 26)
            appendBigEndian(argument, width: 4, to: &out)
        default:
            out.append(type | 27)
            appendBigEndian(argument, width: 8, to: &out)
        }
    }

    private static func appendBigEndian(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        for i in stride(from: width - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
