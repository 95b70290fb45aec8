/// One key of `/etc/security/pam_passkey.conf`: its name, its default (as it would be written
/// in the file), one line of documentation, and how its value is read. Every key is defined
/// exactly once, in `PolicyKeys.swift`; the sample file, the man page and the README table
/// are generated from that list.
public struct PolicyKey<Value: Sendable>: Sendable {
    /// The name, the documentation and the reader, behind one reference: a key is that and its
    /// default, so copying one (every `policy[.key]` does) is two retains. As seven fields a
    /// key was copied through the runtime's value witnesses, and so through its generic
    /// metadata, which the runtime built at run time on a process's first login (issue 17).
    @usableFromInline let spec: PolicyKeySpec
    /// Parsed once: decisions read keys on every login.
    public let defaultValue: Value

    @inlinable public var name: String { spec.name }
    /// The default as text, exactly as it would appear in the file.
    public var defaultText: String { spec.defaultText }
    /// What to show as the default when it is computed at run time (e.g. "the host name").
    public var defaultNote: String? { spec.defaultNote }
    public var summary: String { spec.summary }
    /// Accepted values, for error messages and documentation (e.g. "yes or no", "1 to 100").
    public var accepted: String { spec.accepted }

    init(_ name: String, default defaultText: String, defaultNote: String? = nil, accepted: String,
         _ summary: String, read: @escaping @Sendable (String) -> Value?) {
        guard let v = read(defaultText) else { fatalError("policy key \(name): default \"\(defaultText)\" does not parse") }
        spec = PolicyKeySpec(name: name, defaultText: defaultText, defaultNote: defaultNote, summary: summary, accepted: accepted) { text in
            guard let value = read(text) else { return .rejected }
            return .value(value)
        }
        defaultValue = v
    }

    /// The value of `text`, or nil when it is not acceptable for this key.
    public func value(of text: String) -> Value? {
        guard case .value(let value) = spec.read(text) else { return nil }
        return value as? Value
    }
}

/// What every key has whatever its type: name, documentation, and its reader with the value's
/// type erased (`PolicyKey.value(of:)` gives it back).
@usableFromInline
final class PolicyKeySpec: Sendable {
    @usableFromInline let name: String
    let defaultText: String
    let defaultNote: String?
    let summary: String
    let accepted: String
    let read: @Sendable (String) -> PolicyKeyReading

    init(name: String, defaultText: String, defaultNote: String?, summary: String, accepted: String,
         read: @escaping @Sendable (String) -> PolicyKeyReading) {
        self.name = name
        self.defaultText = defaultText
        self.defaultNote = defaultNote
        self.summary = summary
        self.accepted = accepted
        self.read = read
    }
}

/// A value read from its text form. Not an Optional: an Optional of an existential is
/// destroyed through Optional's metadata, which the runtime builds on first use.
enum PolicyKeyReading {
    case rejected
    case value(any Sendable)
}

/// The type-erased view of a key, for the table of all keys.
public struct AnyPolicyKey: Sendable {
    let spec: PolicyKeySpec

    public var name: String { spec.name }
    public var defaultText: String { spec.defaultText }
    public var defaultNote: String? { spec.defaultNote }
    public var summary: String { spec.summary }
    public var accepted: String { spec.accepted }

    init<V>(_ key: PolicyKey<V>) { spec = key.spec }

    /// Sets this key in `policy` from its text form; false (the policy unchanged) when the
    /// value is not acceptable.
    func apply(_ text: String, _ policy: inout Policy) -> Bool {
        guard case .value(let value) = spec.read(text) else { return false }
        policy.store(value, for: spec.name)
        return true
    }
}

// MARK: - Value readers

extension PolicyKey where Value == String {
    static func text(_ name: String, default d: String, defaultNote: String? = nil, _ summary: String,
                     allowEmpty: Bool = false) -> Self {
        .init(name, default: d, defaultNote: defaultNote, accepted: "text", summary) { s in
            (s.isEmpty && !allowEmpty) || s.unicodeScalars.contains(where: isLineBreakOrControl) ? nil : s
        }
    }

    static func path(_ name: String, default d: String, _ summary: String) -> Self {
        .init(name, default: d, accepted: "an absolute path", summary) { s in isAbsolutePathWithoutDotDot(s) ? s : nil }
    }
}

extension PolicyKey where Value == Int {
    static func integer(_ name: String, default d: Int, range: ClosedRange<Int>, _ summary: String) -> Self {
        .init(name, default: String(d), accepted: "a whole number from \(range.lowerBound) to \(range.upperBound)", summary) { s in
            guard let v = Int(s), range.contains(v) else { return nil }
            return v
        }
    }

    /// A duration in seconds, written as a number with an optional unit: s, m, h or d.
    static func duration(_ name: String, default d: String, max: Int, _ summary: String) -> Self {
        .init(name, default: d, accepted: "a duration such as 30s, 15m, 12h or 7d", summary) { s in
            var digits = Substring(s)
            var unit = 1
            switch s.last {
            case "s": unit = 1; digits = digits.dropLast()
            case "m": unit = 60; digits = digits.dropLast()
            case "h": unit = 3600; digits = digits.dropLast()
            case "d": unit = 86400; digits = digits.dropLast()
            default: break
            }
            guard let n = Int(digits), n >= 0, n <= max / unit else { return nil }
            return n * unit
        }
    }
}

extension PolicyKey where Value == Bool {
    static func flag(_ name: String, default d: Bool, _ summary: String) -> Self {
        .init(name, default: d ? "yes" : "no", accepted: "yes or no", summary) { s in
            switch s.lowercased() {
            case "yes", "true", "on", "1": return true
            case "no", "false", "off", "0": return false
            default: return nil
            }
        }
    }
}

extension PolicyKey where Value == [String] {
    /// A list separated by commas and/or spaces; "none" (or nothing) is the empty list.
    static func list(_ name: String, default d: [String], _ summary: String) -> Self {
        .init(name, default: d.isEmpty ? "none" : commaSeparated(d), accepted: "names separated by commas, or none", summary) { s in
            let items = listItems(s)
            if items.count == 1 && items[0] == "none" { return [] }
            guard items.allSatisfy(isListItem) else { return nil }
            return items
        }
    }
}

extension PolicyKey where Value == [String] {
    /// `auto`, `off`, or absolute device paths separated by commas and/or spaces.
    static func devices(_ name: String, default d: [String], _ summary: String) -> Self {
        // commaSeparated, not joined(separator:): the generic join resolves its witnesses at
        // run time (a conformance scan), ~110,000 instructions in every process that reads a policy.
        .init(name, default: commaSeparated(d), accepted: "auto, off, or absolute device paths separated by commas", summary) { s in
            let items = s.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
            if items == ["auto"] || items == ["off"] { return items }
            guard !items.isEmpty, items.allSatisfy({ item in
                item.utf8.first == UInt8(ascii: "/") && !item.split(separator: "/").contains("..")
                    && !item.unicodeScalars.contains { $0.properties.generalCategory == .control }
            }) else { return nil }
            return items
        }
    }
}

extension PolicyKey where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    static func choice(_ name: String, default d: Value, _ summary: String) -> Self {
        // A closure, not \.rawValue: a key path is built at run time, on every process's first login.
        .init(name, default: d.rawValue, accepted: commaSeparated(Value.allCases.map { $0.rawValue }), summary) { s in
            Value(rawValue: s.lowercased())
        }
    }
}

// The readers below go byte by byte, without the generic split (whose first use resolves
// its witnesses at run time: about 130,000 instructions on a process's first login, for two
// keys every login reads). The delimiters are ASCII, so splitting the UTF-8 bytes at them
// gives the same pieces as splitting the Characters, except where a combining mark follows
// a delimiter — and such a piece is refused either way (see `isListItem`).

/// Begins with "/", has no NUL and no ".." component.
func isAbsolutePathWithoutDotDot(_ s: String) -> Bool {
    var utf8 = s.utf8.makeIterator()
    guard utf8.next() == UInt8(ascii: "/") else { return false }
    // Bytes of the current component, capped at 3: only whether it is ".." matters.
    var length = 0, dots = 0
    while true {
        let byte = utf8.next()
        if byte == 0 { return false }
        if byte == nil || byte == UInt8(ascii: "/") {
            if length == 2 && dots == 2 { return false }
            if byte == nil { return true }
            (length, dots) = (0, 0)
            continue
        }
        length = min(length + 1, 3)
        if byte == UInt8(ascii: ".") { dots += 1 }
    }
}

/// The pieces of `s` between commas, spaces and tabs, empty pieces left out.
func listItems(_ s: String) -> [String] {
    var items: [String] = []
    var piece: [UInt8] = []
    for byte in s.utf8 {
        if byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
            if !piece.isEmpty { items.append(String(decoding: piece, as: UTF8.self)) }
            piece.removeAll(keepingCapacity: true)
        } else {
            piece.append(byte)
        }
    }
    if !piece.isEmpty { items.append(String(decoding: piece, as: UTF8.self)) }
    return items
}

/// `items.joined(separator: ", ")`, without the generic `joined`: every key is built on a
/// process's first login, and `joined`'s first call looks up its associated type witnesses
/// at run time (about 100,000 instructions).
private func commaSeparated(_ items: [String]) -> String {
    var text = ""
    for (i, item) in zip(0..., items) {
        if i > 0 { text += ", " }
        text += item
    }
    return text
}

/// Letters, digits and `-_.@+`. Names are almost always ASCII, checked here byte by byte;
/// anything else by Character, as before (Unicode letters and digits are accepted).
private func isListItem(_ item: String) -> Bool {
    var ascii = true
    for byte in item.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "@"), UInt8(ascii: "+"):
            continue
        case 0x80...: ascii = false
        default: return false
        }
    }
    return ascii || item.allSatisfy { $0.isLetter || $0.isNumber || "-_.@+".contains($0) }
}

/// Control characters below U+0020 and the other line breaks (NEL, U+2028, U+2029): a value
/// with one would end the line in a log or a prompt.
private func isLineBreakOrControl(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0..<0x20, 0x85, 0x2028, 0x2029: return true
    default: return false
    }
}
