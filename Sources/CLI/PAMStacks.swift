#if canImport(Glibc)
import Glibc
#endif
import Storage

/// The PAM service files that use pam_passkey.so, read the way libpam reads them: one rule a
/// line, `#` comments, a control value in brackets may contain spaces, `-type` marks a
/// line whose module may be missing.
struct PAMStacks {
    struct Line {
        let file: String
        let number: Int
        /// "auth", "account", … (without the leading "-").
        let type: String
        /// libpam skips a "-type" line whose module does not exist; any other line with a
        /// missing module fails the whole stack.
        let mayBeMissing: Bool
        let module: String
        let arguments: [String]

        var isAppendStep: Bool { arguments.contains("append") }
        var policyPath: String? { arguments.first { $0.hasPrefix("conf=") }.map { String($0.dropFirst(5)) } }
    }

    let directory: String
    let lines: [Line]
    /// Service files that `@include common-auth`.
    let includingCommonAuth: [String]
    /// Files that could not be read, with why.
    let unreadable: [(file: String, reason: String)]

    var files: [String] {
        var seen: [String] = []
        for l in lines where !seen.contains(l.file) { seen.append(l.file) }
        return seen
    }

    var commonAuth: Bool { lines.contains { $0.file == "common-auth" } }

    static func read(directory: String) throws(StorageError) -> PAMStacks {
        let dir = try SecureDirectory.open(directory)
        var lines: [Line] = []
        var including: [String] = []
        var unreadable: [(String, String)] = []
        for name in try dir.entries().sorted() {
            let bytes: [UInt8]?
            do { bytes = try dir.read(name, maxBytes: 1 << 20) } catch {
                if case .wrongKind(_, .directory, _) = error { continue }
                unreadable.append((name, error.description))
                continue
            }
            guard let bytes else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let content = raw.prefix { $0 != "#" }
                let tokens = tokenize(content)
                guard let first = tokens.first else { continue }
                if first == "@include", tokens.count > 1, tokens[1] == "common-auth" { including.append(name) }
                guard tokens.count >= 3 else { continue }
                let module = tokens[2]
                guard module.split(separator: "/").last == "pam_passkey.so" else { continue }
                let mayBeMissing = first.hasPrefix("-")
                lines.append(Line(file: name, number: index + 1, type: mayBeMissing ? String(first.dropFirst()) : first,
                                  mayBeMissing: mayBeMissing, module: module, arguments: Array(tokens.dropFirst(3))))
            }
        }
        return PAMStacks(directory: directory, lines: lines, includingCommonAuth: including, unreadable: unreadable)
    }

    /// Whitespace-separated, with `[ … ]` (which may hold spaces) as one token.
    static func tokenize(_ line: Substring) -> [String] {
        var tokens: [String] = []
        var current = ""
        var depth = 0
        for ch in line {
            if ch == "[" { depth += 1 }
            if ch == "]" { depth = max(0, depth - 1) }
            if (ch == " " || ch == "\t" || ch == "\r") && depth == 0 {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// Where libpam looks for a module named without a path.
    static var moduleDirectories: [String] {
        #if arch(x86_64)
        let triplet = "x86_64-linux-gnu"
        #elseif arch(arm64)
        let triplet = "aarch64-linux-gnu"
        #else
        let triplet = ""
        #endif
        var dirs = ["/lib/security", "/usr/lib/security", "/lib64/security", "/usr/lib64/security"]
        if !triplet.isEmpty { dirs = ["/lib/\(triplet)/security", "/usr/lib/\(triplet)/security"] + dirs }
        return dirs
    }

    /// The file a line's module resolves to, or nil when there is none.
    static func resolve(_ module: String) -> String? {
        let candidates = module.hasPrefix("/") ? [module] : moduleDirectories.map { $0 + "/" + module }
        var st = stat()
        return candidates.first { stat($0, &st) == 0 && st.st_mode & S_IFMT == S_IFREG }
    }
}
