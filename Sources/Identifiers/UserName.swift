/// A user name that is safe to use as a file name, checked once where a name enters the
/// program (PAM_USER, a command line) so that nothing downstream can mistake it for a path.
///
/// The rule, exactly:
/// - 1 to 240 bytes of UTF-8. 240 rather than LOGIN_NAME_MAX (256) so that the record file
///   (`NAME.json`), its lock (`.NAME.json.lock`) and its temporary file (`.NAME.json.tmp`)
///   fit in a 255-byte Linux file name.
/// - no `/` (a path separator) and no leading `.` (`.`, `..`, and the dot-files the stores
///   keep for locks and temporary files).
/// - no control characters (C0, DEL, C1), no format characters (Unicode Cf: zero-width and
///   bidirectional marks that make two names look alike), no whitespace or separators (Z*).
/// - no U+FFFD: it is what a lossy conversion from bytes produces, and two different byte
///   names must never collapse into one record.
/// Everything else is accepted, so the names real systems have work: `alice`, `j.doe`,
/// `svc_backup-1`, `alice@example.com` (SSSD), `host$`, `DOMAIN\alice` (winbind), `émile`.
///
/// Names compare by their UTF-8 bytes, as the file system does: "é" precomposed and "e" with a
/// combining accent are two users, even though Swift's `String ==` calls them equal.
public struct UserName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public static let maxBytes = 240

    /// The name as given; also the stem of its file names.
    public let rawValue: String

    public init(validating name: String) throws(InvalidUserName) {
        let bytes = name.utf8.count
        if bytes == 0 { throw InvalidUserName(name: name, reason: "it is empty") }
        if bytes > Self.maxBytes {
            throw InvalidUserName(name: name, reason: "it is \(bytes) bytes long; at most \(Self.maxBytes) are accepted")
        }
        if name.utf8.first == UInt8(ascii: ".") { throw InvalidUserName(name: name, reason: "it starts with \".\"") }
        for scalar in name.unicodeScalars {
            if scalar == "/" { throw InvalidUserName(name: name, reason: "it contains \"/\"") }
            if scalar == "\u{FFFD}" {
                throw InvalidUserName(name: name, reason: "it contains U+FFFD (bytes that were not valid UTF-8)")
            }
            switch scalar.properties.generalCategory {
            case .control, .format:
                throw InvalidUserName(name: name, reason: "it contains the control or format character \(Self.codePoint(scalar))")
            case .spaceSeparator, .lineSeparator, .paragraphSeparator:
                throw InvalidUserName(name: name, reason: "it contains the white space \(Self.codePoint(scalar))")
            default:
                break
            }
        }
        rawValue = name
    }

    public var description: String { rawValue }

    public static func == (a: UserName, b: UserName) -> Bool { a.rawValue.utf8.elementsEqual(b.rawValue.utf8) }
    public func hash(into hasher: inout Hasher) {
        for byte in rawValue.utf8 { hasher.combine(byte) }
    }
    public static func < (a: UserName, b: UserName) -> Bool { a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8) }

    static func codePoint(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// A name refused by `UserName(validating:)`. The description shows the name with anything
/// unprintable escaped, so a log line cannot be forged through it.
public struct InvalidUserName: Error, Equatable, Sendable, CustomStringConvertible {
    public let name: String
    public let reason: String

    public var description: String { "invalid user name \(escapedForLog(name)): \(reason)" }
}

/// The string in double quotes with control, format and non-ASCII white space characters
/// written as \u{…}, and at most 300 characters of it: safe to put in a log line.
public func escapedForLog(_ s: String) -> String {
    var out = "\""
    for (i, scalar) in s.unicodeScalars.enumerated() {
        if i == 300 { out += "…"; break }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        case .spaceSeparator where scalar != " ":
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            if scalar == "\"" || scalar == "\\" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
