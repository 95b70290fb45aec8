import PAMStack
import Storage

/// The PAM service files that use pam_passkey.so, read with libpam's rules (PAMStack's
/// `ConfigFile`), and whether an offer can follow a failed authentication in any of them.
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
    /// Every file read, by name: the services whose stacks are checked.
    let names: [String]
    /// The files each file includes (`include`, `substack`, `@include`), by name as written.
    let includes: [String: [String]]

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
        var names: [String] = []
        var includes: [String: [String]] = [:]
        for name in try dir.entries().sorted() {
            let bytes: [UInt8]?
            do { bytes = try dir.read(name, maxBytes: SecureStackSource.maxFileBytes) } catch {
                if case .wrongKind(_, .directory, _) = error { continue }
                unreadable.append((name, error.description))
                continue
            }
            guard let bytes else { continue }
            names.append(name)
            let parsed: [ConfigLine]
            do { parsed = try ConfigFile.parse(bytes, path: name) } catch {
                unreadable.append((name, error.description))
                continue
            }
            for rule in parsed {
                switch rule.kind {
                case .atInclude(let included?):
                    if included == "common-auth" { including.append(name) }
                    includes[name, default: []].append(included)
                case .include(let included?, _): includes[name, default: []].append(included)
                default: break
                }
                guard rule.moduleName == "pam_passkey.so", let type = rule.type,
                      case .module(_, let module?, let arguments) = rule.kind else { continue }
                lines.append(Line(file: name, number: rule.ref.number, type: type, mayBeMissing: rule.silent,
                                  module: module, arguments: arguments))
            }
        }
        return PAMStacks(directory: directory, lines: lines, includingCommonAuth: including, unreadable: unreadable, names: names,
                         includes: includes)
    }

    /// The file a line's module resolves to, or nil when there is none.
    static func resolve(_ module: String) -> String? { ModuleFiles.resolve(module) }

    /// What libpam would do at pam_setcred after a failed pam_authenticate, for every service
    /// in the directory whose auth stack has an append line: one error per line that lets an
    /// offer follow a failed login (with the services it affects and the fix), one per stack
    /// that cannot be followed, and one ok line for the services found safe.
    func offerSafety() -> [(level: StatusCommand.Level, text: String)] {
        let location = StackLocation.inspected(directory)
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        // Files of this directory by name, as status names them elsewhere.
        func short(_ s: String) -> String {
            let p = Array(prefix.utf8)
            var bytes = Array(s.utf8)
            var i = 0
            while i + p.count <= bytes.count {
                if Array(bytes[i..<i + p.count]) == p { bytes.removeSubrange(i..<i + p.count) } else { i += 1 }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var safe: [String] = []
        var unsafe: [(finding: String, services: [String])] = []
        var unreadable: [(String, String)] = []
        for name in names {
            let chain: AuthChain
            do {
                // `other` as the services without a file of their own run it.
                chain = name == "other" ? try AuthChain.loadOther(location: location, source: SecureStackSource())
                                        : try AuthChain.load(service: name, location: location, source: SecureStackSource())
            } catch {
                // Only where pam_passkey.so could be: the file names it, or includes a file that does.
                if files.contains(name) || (includes[name] ?? []).contains(where: files.contains) {
                    unreadable.append((name, short(error.description)))
                }
                continue
            }
            // A service without auth lines of its own runs other's; other is checked as itself.
            guard chain.file == prefix + name else { continue }
            switch AppendSafety.check(chain, catalog: .system) {
            case .noAppendLine: continue
            case .safe: safe.append(name)
            case .unsafe(let path):
                let finding = short(path.description)
                if let i = unsafe.firstIndex(where: { $0.finding == finding }) {
                    unsafe[i].services.append(name)
                } else {
                    unsafe.append((finding, [name]))
                }
            }
        }
        var result: [(StatusCommand.Level, String)] = []
        for (finding, services) in unsafe {
            result.append((.error, "an offer can follow a failed login in \(services.joined(separator: ", ")): \(finding)"))
        }
        for (name, why) in unreadable {
            result.append((.error, "\(name): cannot tell whether an offer can follow a failed login, so the append step makes none there: \(why)"))
        }
        if !safe.isEmpty {
            result.append((.ok, "no offer can follow a failed login in \(safe.joined(separator: ", "))"))
        }
        return result
    }
}
