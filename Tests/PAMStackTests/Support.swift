import Foundation
import PAMStack
import XCTest

/// Service files held in memory, by path.
struct MemorySource: StackSource {
    var files: [String: String]

    func read(_ path: String) throws(StackProblem) -> [UInt8]? { files[path].map { Array($0.utf8) } }
}

/// Every module file exists; the known modules answer as their source says.
let everyModule = ModuleCatalog { _ in true }

/// What a Debian system has besides the auth stacks under test.
let debianCommon: [String: String] = [
    "/etc/pam.d/common-account": "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\naccount requisite pam_deny.so\naccount required pam_permit.so\n",
    "/etc/pam.d/common-session": "session required pam_unix.so\n",
    "/etc/pam.d/common-password": "password [success=1 default=ignore] pam_unix.so obscure yescrypt\npassword requisite pam_deny.so\npassword required pam_permit.so\n",
    "/etc/pam.d/other": "auth required pam_deny.so\naccount required pam_deny.so\n",
]

/// The verdict for `service` among `files` (paths under /etc/pam.d unless absolute).
func verdict(_ service: String, _ files: [String: String], location: StackLocation = .system,
             catalog: ModuleCatalog = everyModule) throws -> AppendSafety.Verdict {
    var all = debianCommon
    for (name, text) in files { all[name.hasPrefix("/") ? name : "/etc/pam.d/" + name] = text }
    let chain = try AuthChain.load(service: service, location: location, source: MemorySource(files: all))
    return AppendSafety.check(chain, catalog: catalog)
}

func assertSafe(_ service: String, _ files: [String: String], file: StaticString = #filePath, line: UInt = #line) {
    do {
        switch try verdict(service, files) {
        case .safe: break
        case .noAppendLine: XCTFail("\(service): no append line found", file: file, line: line)
        case .unsafe(let path): XCTFail("\(service) found unsafe: \(path)\n" + path.path.joined(separator: "\n"), file: file, line: line)
        }
    } catch {
        XCTFail("\(service): \(error)", file: file, line: line)
    }
}

/// The unsafe path found for `service`; fails the test when the stack is found safe.
func unsafePath(_ service: String, _ files: [String: String], file: StaticString = #filePath, line: UInt = #line) -> UnsafePath? {
    do {
        if case .unsafe(let path) = try verdict(service, files) { return path }
        XCTFail("\(service): expected an unsafe stack", file: file, line: line)
    } catch {
        XCTFail("\(service): \(error)", file: file, line: line)
    }
    return nil
}

/// The repository's files.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The first fenced code block after the line containing `marker`.
    static func codeBlock(in path: String, after marker: String) throws -> String {
        let lines = try text(path).components(separatedBy: "\n")
        guard let at = lines.firstIndex(where: { $0.contains(marker) }),
              let open = lines[at...].firstIndex(where: { $0.hasPrefix("```") }),
              let close = lines[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") }) else {
            throw NSError(domain: "no code block after \(marker) in \(path)", code: 1)
        }
        return lines[(open + 1)..<close].joined(separator: "\n") + "\n"
    }

    /// The `.EX` … `.EE` examples of a man page, as text.
    static func manExamples(_ path: String) throws -> [String] {
        var examples: [String] = []
        var current: [String]? = nil
        for line in try text(path).components(separatedBy: "\n") {
            if line == ".EX" { current = [] } else if line == ".EE" {
                if let c = current { examples.append(c.joined(separator: "\n") + "\n") }
                current = nil
            } else if current != nil {
                current!.append(line.replacingOccurrences(of: "\\-", with: "-"))
            }
        }
        return examples
    }
}
