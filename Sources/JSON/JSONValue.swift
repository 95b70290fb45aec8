/// A JSON value, the one representation pam_passkey reads and writes JSON through: the
/// registry and history files (via `JSONCoding`), clientDataJSON, and the CLI's and
/// explain's JSON output.
///
/// Objects keep their members in order, so output is printed in the order it was built and
/// a parsed object can be checked member by member; the parser refuses a name given twice.
/// Numbers keep their text, so an integer is never rounded through a Double.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func string(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    public static func int(_ v: Int64) -> JSONValue { .number(String(v)) }
    public static func int(_ v: Int64?) -> JSONValue { v.map { .int($0) } ?? .null }
    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }

    /// The value of the object member `name`; nil when this is not an object or has no such
    /// member.
    public subscript(member name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (key, value) in members where key == name { return value }
        return nil
    }

    /// What kind of value this is, for error messages: "an object", "a string", …
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}
