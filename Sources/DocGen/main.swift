// passkey-docgen — prints the documentation of the policy keys, generated from the one key
// table (Sources/Policy/PolicyKeys.swift), so the sample file, the man page and the README
// cannot drift from what the parser accepts.
//
//   passkey-docgen conf       the sample /etc/security/pam_passkey.conf (every key commented out)
//   passkey-docgen roff       the keys section of pam_passkey.conf(5)
//   passkey-docgen markdown   the table of keys for README.md
//   passkey-docgen keys       name, default and default note of every key, tab-separated (tests)
//   passkey-docgen fill       copies a man page template from stdin to stdout, replacing the
//                             line "@POLICY_KEYS@" with the roff keys section
#if canImport(Glibc)
import Glibc
#endif

let usage = "usage: passkey-docgen conf|roff|markdown|keys|fill   (fill: man page template on stdin)"

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 1 else {
    printError("\(usage)\n")
    exit(2)
}
switch arguments[0] {
case "conf":
    print(KeyDocs.sampleConf(), terminator: "")
case "roff":
    print(KeyDocs.roff(), terminator: "")
case "markdown":
    print(KeyDocs.markdown(), terminator: "")
case "keys":
    print(KeyDocs.keyList(), terminator: "")
case "fill":
    var sawMarker = false
    while let line = readLine(strippingNewline: false) {
        if line.trimmingTrailingNewline() == KeyDocs.templateMarker {
            print(KeyDocs.roff(), terminator: "")
            sawMarker = true
        } else {
            print(line, terminator: "")
        }
    }
    if !sawMarker {
        printError("passkey-docgen fill: the template has no line \"\(KeyDocs.templateMarker)\"; nothing was generated\n")
        exit(1)
    }
case "--help", "-h":
    print(usage)
default:
    printError("passkey-docgen: unknown output \"\(arguments[0])\"\n\(usage)\n")
    exit(2)
}

/// stderr through write(2): Swift 6 forbids touching C's global `stderr`.
func printError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

extension String {
    func trimmingTrailingNewline() -> Substring {
        var s = Substring(self)
        while let l = s.last, l == "\n" || l == "\r" { s = s.dropLast() }
        return s
    }
}
