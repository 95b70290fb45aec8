#if canImport(Glibc)
import Glibc
#endif
import Storage
import Identifiers

/// How a command ends when it does not succeed. Each message is one sentence that says what
/// is wrong and what to do; main prints it after "passkeyctl: ".
enum CLIError: Error {
    /// Exit 2: the command line itself is wrong (the command's name, for the --help hint).
    case usage(String?, String)
    /// Exit 1: the operation was understood and failed.
    case failed(String)

    var exitCode: Int32 {
        switch self {
        case .usage: return 2
        case .failed: return 1
        }
    }

    var message: String {
        switch self {
        case .usage(let command, let text):
            let help = command.map { "passkeyctl \($0) --help" } ?? "passkeyctl --help"
            return "\(text); see \(help)"
        case .failed(let text):
            return text
        }
    }
}

/// A user name from the command line: one that cannot name a registry record is a usage error.
func userName(_ text: String, command: String) throws(CLIError) -> UserName {
    do { return try UserName(validating: text) } catch { throw .usage(command, error.description) }
}

/// A value from the command line as it may be shown back: quoted and escaped when it
/// holds anything a terminal would interpret.
func printable(_ s: String) -> String {
    let escaped = escapedForLog(s)
    let plain = "\"" + s + "\""
    return escaped == plain && !s.contains(" ") && !s.isEmpty ? s : escaped
}

enum Output {
    static func line(_ text: String = "") {
        print(text)
    }

    static func error(_ text: String) {
        standardError("passkeyctl: \(text)\n")
    }

    static func warning(_ text: String) {
        standardError("passkeyctl: warning: \(text)\n")
    }

    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// Columns padded to their widest cell; no line ends in spaces.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    return all.map { row in
        var line = row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
        }.joined(separator: "  ")
        while line.last == " " { line.removeLast() }
        return line
    }.joined(separator: "\n")
}
