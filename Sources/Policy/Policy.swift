import Storage
import Identifiers

/// The administrator's policy: the values read from the policy file, defaults for the rest.
/// Read a value with its key: `policy[.pinMinLength]`.
public struct Policy: Sendable {
    /// The keys the file set, and their values (`values[i]` is `names[i]`'s). Two arrays
    /// searched in order rather than a Dictionary: a file sets a handful of keys, every login
    /// reads a dozen, and a Dictionary's hashing (and, in a fresh process, its metadata and
    /// the String: Hashable conformance lookup) cost more than the search.
    @usableFromInline var names: [String] = []
    @usableFromInline var values: [any Sendable] = []
    /// Where it came from, for messages ("built-in defaults" when no file was read).
    public var source: String

    /// All defaults.
    public init(source: String = "built-in defaults") { self.source = source }

    /// Inlinable, so that it is specialised where it is read: unspecialised, every read made
    /// the runtime build the metadata of the key's type (and of an Optional of the value's)
    /// on a process's first login.
    @inlinable
    public subscript<V>(key: PolicyKey<V>) -> V {
        get {
            guard let i = names.firstIndex(of: key.name) else { return key.defaultValue }
            return (values[i] as? V) ?? key.defaultValue
        }
        set { store(newValue, for: key.name) }
    }

    /// Whether the file set this key (as opposed to its default applying).
    public func isSet(_ name: String) -> Bool { names.contains(name) }

    /// Sets a key from its text form, as the file parser does. Returns false if the value is
    /// not acceptable for the key (the previous value stays).
    @discardableResult
    public mutating func set(_ name: String, text: String) -> Bool {
        guard let key = PolicyKeys.named(name) else { return false }
        return key.apply(text, &self)
    }

    @usableFromInline
    mutating func store(_ value: any Sendable, for name: String) {
        if let i = names.firstIndex(of: name) {
            values[i] = value
        } else {
            names.append(name)
            values.append(value)
        }
    }
}

/// Something in the policy file that was ignored, with where it is and what was used instead.
public struct PolicyWarning: Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public var description: String { "\(file):\(line): \(message)" }
}

extension Policy {
    /// Parses the `key = value` format (faillock.conf convention): `#` starts a comment, blank
    /// lines are ignored, whitespace around key and value is trimmed. Unknown keys and bad
    /// values produce a warning naming file and line, and the key keeps its default. A line
    /// that is not `key = value` at all is also a warning. Never fails: the caller decides
    /// what an unreadable file means.
    ///
    /// Read byte by byte: every login reads this file, and the delimiters are all ASCII (a
    /// CRLF line ends at its LF; the CR is trimmed like other trailing whitespace).
    public static func parse(_ text: String, source: String) -> (Policy, [PolicyWarning]) {
        var policy = Policy(source: source)
        var warnings: [PolicyWarning] = []
        // Where each key was set, in the order first set (a handful: searched, not hashed).
        // A struct, not a tuple: an array of tuples needs tuple metadata, built at run time.
        struct Seen { let name: String; var line: Int }
        var seen: [Seen] = []
        let bytes = Array(text.utf8)
        var lineStart = 0, lineNumber = 0
        while lineStart <= bytes.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var line = bytes[lineStart..<lineEnd]
            if let hash = line.firstIndex(of: UInt8(ascii: "#")) { line = line[..<hash] }
            line = trimmed(line)
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else {
                warnings.append(.init(file: source, line: lineNumber, message: "expected \"key = value\", ignored"))
                continue
            }
            let name = String(decoding: trimmed(line[..<eq]), as: UTF8.self)
            let value = String(decoding: trimmed(line[(eq + 1)...]), as: UTF8.self)
            guard let key = PolicyKeys.named(name) else {
                warnings.append(.init(file: source, line: lineNumber, message: "unknown key \(escapedForLog(name)), ignored"))
                continue
            }
            if key.apply(value, &policy) {
                if let i = seen.firstIndex(where: { $0.name == key.name }) {
                    warnings.append(.init(file: source, line: lineNumber,
                                          message: "\(key.name) is also set on line \(seen[i].line); this later value is used"))
                    seen[i].line = lineNumber
                } else {
                    seen.append(Seen(name: key.name, line: lineNumber))
                }
            } else {
                let fallback = policy.isSet(key.name) ? "the earlier value" : "the default (\(key.defaultNote ?? key.defaultText))"
                // Escaped: the value goes to syslog, and a control character in it must not forge a line.
                warnings.append(.init(file: source, line: lineNumber,
                                      message: "\(key.name) = \(escapedForLog(value)) is not \(key.accepted); using \(fallback)"))
            }
        }
        return (policy, warnings)
    }
}

/// Without leading and trailing spaces, tabs and carriage returns.
private func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
    var s = s
    while let f = s.first, isBlank(f) { s = s.dropFirst() }
    while let l = s.last, isBlank(l) { s = s.dropLast() }
    return s
}
