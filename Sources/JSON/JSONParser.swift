/// A small strict JSON reader (RFC 8259). Our own rather than Foundation's: a relying party
/// and a login module must refuse what a lenient parser would guess at — duplicate member
/// names (which "challenge" counts? which "credentials"?), invalid UTF-8, lone surrogates —
/// and the module must not carry Foundation into every process that loads it.
extension JSONValue {
    /// Deeper nesting is refused: nothing pam_passkey reads comes near it, and recursion
    /// stays bounded whatever the input.
    public static let maximumNesting = 16

    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalidUTF8 }
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 1)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw .trailingContent(offset: parser.position) }
        return value
    }
}

public enum JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidUTF8
    case unexpectedEnd
    case unexpectedByte(offset: Int)
    case invalidEscape(offset: Int)
    case unpairedSurrogate(offset: Int)
    case controlCharacterInString(offset: Int)
    case invalidNumber(offset: Int)
    case duplicateMember(String)
    case nestingTooDeep(limit: Int)
    case trailingContent(offset: Int)

    public var description: String {
        switch self {
        case .invalidUTF8: return "not valid UTF-8"
        case .unexpectedEnd: return "JSON ends early"
        case .unexpectedByte(let o): return "unexpected character at byte \(o)"
        case .invalidEscape(let o): return "invalid escape sequence at byte \(o)"
        case .unpairedSurrogate(let o): return "unpaired UTF-16 surrogate escape at byte \(o)"
        case .controlCharacterInString(let o): return "unescaped control character in a string at byte \(o)"
        case .invalidNumber(let o): return "invalid number at byte \(o)"
        case .duplicateMember(let name): return "member \"\(name)\" appears more than once"
        case .nestingTooDeep(let limit): return "nested deeper than \(limit) levels"
        case .trailingContent(let o): return "unexpected content after the JSON value at byte \(o)"
        }
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func peek() throws(JSONError) -> UInt8 {
        guard position < bytes.count else { throw .unexpectedEnd }
        return bytes[position]
    }

    private mutating func expect(_ literal: String) throws(JSONError) {
        for c in literal.utf8 {
            guard try peek() == c else { throw .unexpectedByte(offset: position) }
            position += 1
        }
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw .unexpectedByte(offset: position)
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= JSONValue.maximumNesting else { throw .nestingTooDeep(limit: JSONValue.maximumNesting) }
        position += 1
        var members: [(String, JSONValue)] = []
        var names = Set<String>()
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw .unexpectedByte(offset: position) }
            let name = try parseString()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            guard names.insert(name).inserted else { throw .duplicateMember(name) }
            members.append((name, value))
            skipWhitespace()
            let c = try peek()
            position += 1
            if c == UInt8(ascii: "}") { return .object(members) }
            guard c == UInt8(ascii: ",") else { throw .unexpectedByte(offset: position - 1) }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= JSONValue.maximumNesting else { throw .nestingTooDeep(limit: JSONValue.maximumNesting) }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            let c = try peek()
            position += 1
            if c == UInt8(ascii: "]") { return .array(elements) }
            guard c == UInt8(ascii: ",") else { throw .unexpectedByte(offset: position - 1) }
        }
    }

    /// The input was validated as UTF-8 up front, so unescaped bytes are copied as they are.
    private mutating func parseString() throws(JSONError) -> String {
        position += 1  // opening quote
        var out: [UInt8] = []
        while true {
            let c = try peek()
            switch c {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeStart = position
                position += 1
                let e = try peek()
                position += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw .unpairedSurrogate(offset: escapeStart)
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw .unpairedSurrogate(offset: escapeStart) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw .unpairedSurrogate(offset: escapeStart)
                    }
                    UTF8.encode(Unicode.Scalar(scalar)!) { out.append($0) }
                default:
                    throw .invalidEscape(offset: escapeStart)
                }
            case 0x00..<0x20:
                throw .controlCharacterInString(offset: position)
            default:
                out.append(c)
                position += 1
            }
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = try peek()
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw .invalidEscape(offset: position)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func parseNumber() throws(JSONError) -> String {
        let start = position
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        func digits() throws(JSONError) {
            guard position < bytes.count, isDigit(bytes[position]) else { throw .invalidNumber(offset: start) }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count else { throw .invalidNumber(offset: start) }
        if bytes[position] == UInt8(ascii: "0") { position += 1 } else { try digits() }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            try digits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            try digits()
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }
}
