import Storage

/// The administrator's policy: the values read from the policy file, defaults for the rest.
/// Read a value with its key: `policy[.pinMinLength]`.
public struct Policy: Sendable {
    private var values: [String: any Sendable] = [:]
    /// Where it came from, for messages ("built-in defaults" when no file was read).
    public var source: String

    /// All defaults.
    public init(source: String = "built-in defaults") { self.source = source }

    public subscript<V>(key: PolicyKey<V>) -> V {
        get { (values[key.name] as? V) ?? key.defaultValue }
        set { values[key.name] = newValue }
    }

    /// Whether the file set this key (as opposed to its default applying).
    public func isSet(_ name: String) -> Bool { values[name] != nil }

    /// Sets a key from its text form, as the file parser does. Returns false if the value is
    /// not acceptable for the key (the previous value stays).
    @discardableResult
    public mutating func set(_ name: String, text: String) -> Bool {
        guard let key = PolicyKeys.named(name), let v = key.check(text) else { return false }
        values[name] = v
        return true
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
    public static func parse(_ text: String, source: String) -> (Policy, [PolicyWarning]) {
        var policy = Policy(source: source)
        var warnings: [PolicyWarning] = []
        var seen: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                warnings.append(.init(file: source, line: lineNumber, message: "expected \"key = value\", ignored"))
                continue
            }
            let name = trimmed[..<eq].trimmingWhitespace()
            let value = trimmed[trimmed.index(after: eq)...].trimmingWhitespace()
            guard let key = PolicyKeys.named(String(name)) else {
                warnings.append(.init(file: source, line: lineNumber, message: "unknown key \(escapedForLog(String(name))), ignored"))
                continue
            }
            if policy.set(key.name, text: String(value)) {
                if let earlier = seen[key.name] {
                    warnings.append(.init(file: source, line: lineNumber,
                                          message: "\(key.name) is also set on line \(earlier); this later value is used"))
                }
                seen[key.name] = lineNumber
            } else {
                let fallback = policy.isSet(key.name) ? "the earlier value" : "the default (\(key.defaultNote ?? key.defaultText))"
                // Escaped: the value goes to syslog, and a control character in it must not forge a line.
                warnings.append(.init(file: source, line: lineNumber,
                                      message: "\(key.name) = \(escapedForLog(String(value))) is not \(key.accepted); using \(fallback)"))
            }
        }
        return (policy, warnings)
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}
