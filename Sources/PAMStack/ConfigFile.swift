/// A line of a PAM configuration file, for messages: where it is and what it says.
public struct LineRef: Hashable, Sendable, CustomStringConvertible {
    /// The file's path as it was opened.
    public let file: String
    /// The physical line the logical line starts on (a line may go on after a backslash).
    public let number: Int
    /// The line's words, one space apart.
    public let text: String

    public init(file: String, number: Int, text: String) {
        self.file = file
        self.number = number
        self.text = text
    }

    public var description: String { "\(file) line \(number)" }
}

/// Why a stack cannot be read or followed. The module then makes no offer; status reports it.
public struct StackProblem: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One rule of a service file, split into fields the way libpam splits them
/// (libpam/pam_handlers.c `_pam_parse_conf_file`, Debian's `@include` patch).
public struct ConfigLine: Sendable {
    public enum Kind: Sendable {
        /// `type control module arguments…`. A nil control (the field is missing) or path makes
        /// libpam install the line as one that always fails.
        case module(control: Control?, path: String?, arguments: [String])
        /// `type include name` or `type substack name`.
        case include(name: String?, substack: Bool)
        /// Debian's `@include name`: the lines of every type of /etc/pam.d/name, in place.
        case atInclude(name: String?)
    }

    public let ref: LineRef
    /// `auth`, `account`, `session` or `password` (lower case); nil for `@include` and for a
    /// type libpam does not know (it then installs an `auth` line that always fails).
    public let type: String?
    /// The type was written with a leading `-`: libpam does not log that the module is missing.
    public let silent: Bool
    public let kind: Kind

    /// The module's file name (`pam_unix.so` for `/lib/…/pam_unix.so`), if the line names one.
    public var moduleName: String? {
        guard case .module(_, let path?, _) = kind else { return nil }
        return path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init)
    }

    public var arguments: [String] {
        if case .module(_, _, let arguments) = kind { return arguments }
        return []
    }
}

public enum ConfigFile {
    /// Longer physical lines are split in two by libpam's 1,024-byte buffer; a stack that
    /// relies on that is not one to reason about.
    static let maxLineBytes = 1000

    /// The rules of a file, in order.
    public static func parse(_ bytes: [UInt8], path: String) throws(StackProblem) -> [ConfigLine] {
        try logicalLines(bytes, path: path).map { parseLine($0.text, ref: $0.ref) }
    }

    /// libpam's `_pam_assemble_line`: blank lines and lines starting with `#` are skipped,
    /// `#` ends a line wherever it is, and a line ending in `\` goes on with the next line
    /// that is neither blank nor a comment.
    static func logicalLines(_ bytes: [UInt8], path: String) throws(StackProblem) -> [(ref: LineRef, text: [UInt8])] {
        if bytes.contains(0) { throw StackProblem("\(path) contains a NUL byte, which libpam reads as the end of its line") }
        var result: [(ref: LineRef, text: [UInt8])] = []
        var pending: [UInt8]? = nil
        var start = 0
        func emit(_ text: [UInt8]) {
            let spaced = text.split(whereSeparator: isDelimiter).map { String(decoding: $0, as: UTF8.self) }
            result.append((LineRef(file: path, number: start, text: spaced.joined(separator: " ")), text))
            pending = nil
        }
        for (index, raw) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if raw.count > maxLineBytes {
                throw StackProblem("\(path) line \(number) is longer than \(maxLineBytes) bytes; libpam splits such lines")
            }
            let s = raw.drop { isDelimiter($0) }
            guard let first = s.first, first != UInt8(ascii: "#") else { continue }
            if pending == nil { start = number; pending = [] }
            if let hash = s.firstIndex(of: UInt8(ascii: "#")) {
                emit(pending! + s[..<hash])
                continue
            }
            var end = s.endIndex
            while end > s.startIndex, isDelimiter(s[end - 1]) { end -= 1 }
            if s[end - 1] == UInt8(ascii: "\\") {
                pending! += s[..<(end - 1)] + [UInt8(ascii: " ")]
            } else {
                emit(pending! + s)
            }
        }
        if pending != nil {
            throw StackProblem("\(path) line \(start) ends the file with a backslash; libpam refuses the file")
        }
        return result
    }

    /// libpam's field separators.
    static func isDelimiter(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0a }

    /// libpam's `_pam_StrTok`: fields separated by spaces, tabs and new lines; a field that
    /// starts with `[` runs to the first `]` (`\]` stands for `]`), without the brackets.
    static func words(_ text: [UInt8]) -> [String] {
        var tokenizer = Tokenizer(text: text)
        var result: [String] = []
        while let w = tokenizer.next() { result.append(String(decoding: w, as: UTF8.self)) }
        return result
    }

    struct Tokenizer {
        let text: [UInt8]
        var position = 0

        init(text: [UInt8]) { self.text = text }

        /// The next field, or nil when there is none.
        mutating func next() -> [UInt8]? {
            while position < text.count, ConfigFile.isDelimiter(text[position]) { position += 1 }
            guard position < text.count else { return nil }
            var field: [UInt8] = []
            if text[position] == UInt8(ascii: "[") {
                position += 1
                while position < text.count, text[position] != UInt8(ascii: "]") {
                    if text[position] == UInt8(ascii: "\\"), position + 1 < text.count, text[position + 1] == UInt8(ascii: "]") {
                        position += 1
                    }
                    field.append(text[position])
                    position += 1
                }
            } else {
                while position < text.count, !ConfigFile.isDelimiter(text[position]) {
                    field.append(text[position])
                    position += 1
                }
            }
            // The character that ended the field (a delimiter or `]`) is consumed.
            if position < text.count { position += 1 }
            return field
        }

        /// Everything after the fields taken so far, as libpam hands it to `_pam_mkargv`.
        mutating func rest() -> [String] {
            var result: [String] = []
            while let w = next() { result.append(String(decoding: w, as: UTF8.self)) }
            return result
        }
    }

    static func parseLine(_ text: [UInt8], ref: LineRef) -> ConfigLine {
        var fields = Tokenizer(text: text)
        var typeWord = fields.next().map { String(decoding: $0, as: UTF8.self) } ?? ""
        let silent = typeWord.hasPrefix("-")
        if silent { typeWord.removeFirst() }
        let lower = asciiLowercased(typeWord)
        if lower == "@include" {
            let name = fields.next().map { String(decoding: $0, as: UTF8.self) }
            return ConfigLine(ref: ref, type: nil, silent: silent, kind: .atInclude(name: name))
        }
        let type = ["auth", "account", "session", "password"].contains(lower) ? lower : nil
        guard let controlField = fields.next() else {
            return ConfigLine(ref: ref, type: type, silent: silent, kind: .module(control: nil, path: nil, arguments: []))
        }
        let controlWord = String(decoding: controlField, as: UTF8.self)
        switch asciiLowercased(controlWord) {
        case "include", "substack":
            let name = fields.next().map { String(decoding: $0, as: UTF8.self) }
            return ConfigLine(ref: ref, type: type, silent: silent,
                              kind: .include(name: name, substack: asciiLowercased(controlWord) == "substack"))
        default:
            let control = Control.keyword(controlWord) ?? Control.bracket(controlField)
            let path = fields.next().map { String(decoding: $0, as: UTF8.self) }
            return ConfigLine(ref: ref, type: type, silent: silent,
                              kind: .module(control: control, path: path, arguments: fields.rest()))
        }
    }
}
