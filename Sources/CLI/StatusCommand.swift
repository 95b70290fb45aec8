#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import HostState
import Intelligence
import Policy
import Registry
import RelyingParty
import Wiring
import Storage
import WebAuthn
import JSON

enum StatusCommand {
    static let spec = CommandSpec(
        "status", synopsis: "[--pam-dir DIR] [--json]",
        summary: "Check that passkey logins can work on this host: the policy file, the host identity, the helper program and whether it answers, the state and registry directories, and which PAM service files use pam_passkey.so.",
        details: [
            "Each finding is ok, info, warning or error. An error is something that breaks passkey logins (the module then steps aside and the password decides) or, for a PAM stack naming a module file that does not exist, every login through that stack; status then exits with 1.",
        ],
        options: [
            .valued("--pam-dir", "DIR", "PAM service directory to inspect (default /etc/pam.d)"),
            .flag("--json", "print the findings as JSON"),
        ],
        run: run)

    enum Level: String {
        case ok, info, warning, error
    }

    struct Finding {
        let level: Level
        let topic: String
        let text: String
    }

    static func run(_ inv: Invocation) throws(CLIError) {
        try inv.checkPolicyFileGiven()
        var report = StatusReport(policyPath: inv.policyPath, pamDirectory: inv.value("--pam-dir") ?? "/etc/pam.d")
        report.run()
        if inv.json {
            Output.line(report.json.render())
        } else {
            let width = report.findings.map(\.topic.count).max() ?? 0
            for f in report.findings {
                let level = f.level.rawValue + String(repeating: " ", count: 8 - f.level.rawValue.count)
                Output.line(level + " " + f.topic + String(repeating: " ", count: width - f.topic.count + 2) + f.text)
            }
            if !report.findings.contains(where: { $0.level == .error }) { Output.line("Passkey logins can work on this host.") }
        }
        let errors = report.findings.count { $0.level == .error }
        if errors > 0 {
            throw .failed("\(errors) \(errors == 1 ? "problem breaks" : "problems break") passkey logins on this host; fix what status reports as error")
        }
    }
}

/// Everything status looks at, gathered once, shown as text or JSON.
struct StatusReport {
    typealias Finding = StatusCommand.Finding

    let policyPath: String
    let pamDirectory: String
    var findings: [Finding] = []
    private var details: [(String, JSONValue)] = []
    /// What the helper said is wrong, so a cause it already named is not reported twice.
    private var helperProblem: String?

    init(policyPath: String, pamDirectory: String) {
        self.policyPath = policyPath
        self.pamDirectory = pamDirectory
    }

    var json: JSONValue {
        .object([("format", .int(1)), ("ok", .bool(!findings.contains { $0.level == .error }))] + details + [
            ("findings", .array(findings.map { f in
                .object([("level", .string(f.level.rawValue)), ("topic", .string(f.topic)), ("text", .string(f.text))])
            })),
        ])
    }

    private mutating func add(_ level: StatusCommand.Level, _ topic: String, _ text: String) {
        findings.append(Finding(level: level, topic: topic, text: text))
    }

    mutating func run() {
        let policy = checkPolicy()
        checkHostIdentity(policy)
        checkHelper(policy)
        checkStateDirectory(policy)
        checkRegistry(policy)
        checkPAM()
    }

    /// With a policy file that cannot be used the module steps aside; the rest is checked
    /// against the defaults so one run shows everything.
    private mutating func checkPolicy() -> Policy {
        do {
            let (policy, warnings) = try Policy.load(path: policyPath)
            add(.ok, "policy", policy.source == policyPath ? "\(policyPath) parsed" : policy.source)
            for w in warnings { add(.warning, "policy", "\(w)") }
            details.append(("policy", .object([("path", .string(policyPath)), ("source", .string(policy.source)), ("usable", .bool(true)),
                                               ("warnings", .array(warnings.map { .string("\($0)") }))])))
            return policy
        } catch {
            add(.error, "policy", "\(error); until it is fixed the module steps aside on every login (the rest is checked with the defaults)")
            details.append(("policy", .object([("path", .string(policyPath)), ("source", .null), ("usable", .bool(false)),
                                               ("warnings", .array([]))])))
            return Policy()
        }
    }

    private mutating func checkHostIdentity(_ policy: Policy) {
        do {
            let host = try HostIdentity.load(hostIDFile: policy[.hostIDFile], configuredName: policy[.hostName])
            add(.ok, "host", "\(host.hostName), id \(host.hostID.prefix(12))… (from \(policy[.hostIDFile]))")
            details.append(("host", .object([("name", .string(host.hostName)), ("id", .string(host.hostID))])))
        } catch {
            add(.error, "host", "\(error)")
            details.append(("host", .null))
        }
    }

    private mutating func checkHelper(_ policy: Policy) {
        let path = policy[.helper]
        var st = stat()
        var info: [(String, JSONValue)] = [("path", .string(path))]
        defer { details.append(("helper", .object(info))) }
        guard lstat(path, &st) == 0 else {
            add(.error, "helper", "\(path) does not exist; reinstall pam_passkey or fix helper = in \(policyPath)")
            return
        }
        let mode = UInt32(st.st_mode)
        let setuid = mode & UInt32(S_ISUID) != 0 && st.st_uid == 0
        info += [("owner_uid", .int(Int64(st.st_uid))), ("mode", .string(octal(mode))), ("setuid", .bool(setuid))]
        let errorsBefore = findings.count { $0.level == .error }
        if let problem = Self.programProblem(path, st) {
            info += [("launcher", .null), ("authenticator", .null)]
            add(.error, "helper", problem)
        } else if let target = Self.launcherTarget(path) {
            // The installed layout: the setuid launcher, and the authenticator it starts.
            add(.ok, "helper", "\(path): launcher, owner root, mode \(octal(mode))")
            checkAuthenticator(target, launcher: path, into: &info)
            if findings.count(where: { $0.level == .error }) == errorsBefore { addSetuidInfo(setuid) }
        } else {
            info += [("launcher", .bool(false)), ("authenticator", .null)]
            add(.ok, "helper", "\(path): owner root, mode \(octal(mode))")
            addSetuidInfo(setuid)
            if setuid {
                add(.warning, "helper", "\(path) is setuid root but is not pam_passkey's launcher, so the language runtime reads the caller's environment before the helper can clear it; install the launcher there (make install, or the package) or remove the bit: chmod u-s \(path)")
            }
        }

        // One error per cause: a program that cannot be trusted is not started either.
        guard findings.count(where: { $0.level == .error }) == errorsBefore else { return }
        guard let client = HelperClient.forThisProcess(program: path, policyPath: policyPath, systemPolicyPath: Policy.systemPath,
                                                       timeoutSeconds: policy[.helperTimeout]) else {
            add(.error, "helper", "run as root to check the helper against \(policyPath): a user's helper reads only \(Policy.systemPath)")
            return
        }
        do {
            switch try client.perform(.status, answer: { _ in nil }) {
            case .status(let reports):
                guard let host = reports.hostAuthenticator else {
                    helperProblem = "no host authenticator"
                    info.append(("problem", .string(helperProblem)))
                    add(.error, "helper", "answers, but reports no host authenticator; reinstall pam_passkey so the module and helper match")
                    return
                }
                let health = host.health
                info += [("backend", .string(health.kind.rawValue)), ("aaguid", .string(formatAAGUID(health.aaguid))),
                         ("state", .string(health.condition.code)), ("problem", .string(health.problem))]
                if let problem = health.problem {
                    helperProblem = problem
                    add(.error, "helper", "answers, but the \(health.kind.rawValue) authenticator is \(health.condition.code): \(problem)")
                } else {
                    add(.ok, "helper", "answers: \(health.kind.rawValue) authenticator, healthy")
                }
            case .failure(let f):
                helperProblem = f.description
                info.append(("problem", .string(f.description)))
                add(.error, "helper", "answers with a failure: \(f)")
            default:
                info.append(("problem", .string("unexpected reply")))
                add(.error, "helper", "sent an unexpected reply to status; reinstall pam_passkey so the module and helper match")
            }
        } catch {
            info.append(("problem", .string(error.description)))
            add(.error, "helper", "does not answer: \(error)")
        }
    }

    private mutating func addSetuidInfo(_ setuid: Bool) {
        add(.info, "helper", setuid ? "setuid root: screen lockers running as the user can use passkeys (for that user only)"
                                    : "not setuid: only programs running as root (login, sshd, su) can use passkeys; screen lockers cannot")
    }

    /// The Swift program the launcher starts: root's, not writable by others, and not setuid
    /// itself (started directly by a user, its runtime would read their environment as root).
    private mutating func checkAuthenticator(_ target: String, launcher: String, into info: inout [(String, JSONValue)]) {
        info.append(("launcher", .bool(true)))
        var st = stat()
        guard lstat(target, &st) == 0 else {
            info.append(("authenticator", .object([("path", .string(target))])))
            add(.error, "helper", "\(target), the authenticator the launcher \(launcher) starts, does not exist; reinstall pam_passkey")
            return
        }
        let mode = UInt32(st.st_mode)
        info.append(("authenticator", .object([("path", .string(target)), ("owner_uid", .int(Int64(st.st_uid))),
                                                ("mode", .string(octal(mode)))])))
        if let problem = Self.programProblem(target, st) {
            add(.error, "helper", problem)
        } else if mode & UInt32(S_ISUID | S_ISGID) != 0 {
            add(.error, "helper", "\(target) is setuid or setgid (mode \(octal(mode))); started directly by a user, the language runtime would read their environment with root's rights, so only the launcher \(launcher) is setuid; chmod 0755 \(target)")
        } else {
            add(.ok, "helper", "\(target): the authenticator it starts, owner root, mode \(octal(mode))")
        }
    }

    /// Why a program is not safe to run as root, or nil.
    /// The module's own rule for what it may start as root (`HelperTrust`): status says ok
    /// exactly when the module would start it.
    private static func programProblem(_ path: String, _ st: stat) -> String? {
        switch HelperTrust.problem(path) {
        case nil: return nil
        case .unsafe(_, let reason)?: return reason
        case let other?: return other.description
        }
    }

    /// The program a pam_passkey launcher at `path` starts, from the line launcher.c keeps in
    /// its binary; nil when the file is not a launcher (the launcher is small; the Swift
    /// helper is not one).
    static func launcherTarget(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size <= 4 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            total += n
        }
        let marker = Array("pam_passkey launcher target=".utf8)
        guard total >= marker.count else { return nil }
        var i = 0
        while i <= total - marker.count {
            if bytes[i] == marker[0] && bytes[i..<(i + marker.count)].elementsEqual(marker) {
                let start = i + marker.count
                guard let end = bytes[start..<total].firstIndex(of: 0), end > start, bytes[start] == UInt8(ascii: "/") else { return nil }
                return String(decoding: bytes[start..<end], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    private mutating func checkStateDirectory(_ policy: Policy) {
        let path = policy[.stateDir]
        guard let (uid, mode) = checkDirectory(path, topic: "state_dir", fix: "create it: install -d -m 0700 -o root -g root \(path)") else {
            details.append(("state_dir", .object([("path", .string(path)), ("usable", .bool(false))])))
            return
        }
        details.append(("state_dir", .object([("path", .string(path)), ("usable", .bool(true)), ("owner_uid", .int(Int64(uid))),
                                              ("mode", .string(octal(mode)))])))
        if mode & 0o077 != 0 {
            add(.warning, "state_dir", "\(path): mode \(octal(mode)) lets others see who signs in here and when; chmod 0700 \(path)")
        } else {
            add(.ok, "state_dir", "\(path): owner \(ownerText(uid)), mode \(octal(mode))")
        }
        let history = HistoryStore(stateDirectory: path)
        do {
            _ = try history.users()
        } catch {
            add(.error, "state_dir", "history: \(error)")
        }
        // Every secret file (host secret, keyrings of every backend and user), as the helper
        // would refuse it; what the helper has already named is not said twice.
        let secrets = SecretFiles.audit(stateDirectory: path)
        for problem in secrets where !(helperProblem?.containsText(problem.path) ?? false) {
            add(.error, "state_dir", "\(problem)")
        }
        details.append(("secret_files", .object([("directory", .string(SecretFiles.directory(in: path))),
                                                 ("problems", .array(secrets.map { .string($0.description) }))])))
    }

    private mutating func checkRegistry(_ policy: Policy) {
        if policy[.registry] == .ldap { return checkDirectory(policy) }
        let path = policy[.registryDir]
        guard let (uid, mode) = checkDirectory(path, topic: "registry", fix: "create it: install -d -m 0755 -o root -g root \(path) (or mount the shared registry there)") else {
            details.append(("registry", .object([("path", .string(path)), ("usable", .bool(false))])))
            return
        }
        do {
            let users = try FileRegistry(directory: path).users()
            add(.ok, "registry", "\(path): owner \(ownerText(uid)), mode \(octal(mode)), \(users.count) \(users.count == 1 ? "user" : "users")")
            details.append(("registry", .object([("path", .string(path)), ("usable", .bool(true)), ("owner_uid", .int(Int64(uid))),
                                                 ("mode", .string(octal(mode))), ("users", .int(users.count))])))
        } catch {
            add(.error, "registry", "\(error)")
            details.append(("registry", .object([("path", .string(path)), ("usable", .bool(false))])))
        }
    }

    /// registry = ldap: the directory (reachable, and who this host binds as), the cache (how
    /// many users, the oldest sync) and the queue of writes not yet sent.
    private mutating func checkDirectory(_ policy: Policy) {
        let uri = policy[.ldapURI]
        let bind: String
        switch policy[.ldapBind] {
        case .simple: bind = policy[.ldapBindDN]
        case .saslExternal: bind = "SASL EXTERNAL"
        case .gssapi:
            let principal = policy[.ldapKrb5Principal]
            bind = "GSSAPI (keytab \(policy[.ldapKeytab])" + (principal.isEmpty ? ")" : ", principal \(principal))")
        }
        var info: [(String, JSONValue)] = [("backend", .string("ldap")), ("uri", .string(uri)), ("base", .string(policy[.ldapBase])),
                                           ("bind", .string(bind))]
        defer { details.append(("registry", .object(info))) }
        if geteuid() == 0 {
            let outcome = DirectoryProgram(program: policy[.directoryProgram], policyPath: policyPath,
                                           timeoutSeconds: policy[.registryTimeout]).run(["check"])
            info.append(("reachable", .bool(outcome.succeeded)))
            if let bound = Self.boundAs(outcome.message) {
                info.append(("bound_as", .string(bound.who)))
                info.append(("directory_identity", bound.identity.map { .string($0) } ?? .null))
            }
            if outcome.succeeded {
                add(.ok, "registry", "directory \(uri) (\(policy[.ldapBase])): \(outcome.message)")
            } else {
                add(.warning, "registry", "directory \(uri) is not usable now: \(outcome.message); logins use the cache for up to registry_max_offline")
            }
        } else {
            info.append(("reachable", .null))
        }
        let cache = DirectoryRegistry(location: uri, cacheDirectory: policy[.registryCacheDir], queue: nil, sync: nil,
                                      rules: CacheRules(policy: policy))
        let users = (try? cache.users()) ?? []
        let synced = users.compactMap { cache.syncedAt($0) }
        let now = currentEpochSeconds()
        let oldest = synced.min().map { now - $0 }
        info += [("cache", .string(policy[.registryCacheDir])), ("cached_users", .int(Int64(users.count))),
                 ("oldest_sync_age_seconds", oldest.map { .int($0) } ?? .null)]
        add(.ok, "registry", "cache \(policy[.registryCacheDir]): \(users.count) \(users.count == 1 ? "user" : "users")"
            + (oldest.map { ", oldest synced \($0) s ago" } ?? ""))
        if let oldest, oldest > Int64(policy[.registryMaxOffline]) {
            add(.warning, "registry", "a cached record is older than registry_max_offline: passkeys of that user step aside until passkeyctl sync succeeds")
        }
        let queued = WriteQueue(stateDirectory: policy[.stateDir]).count()
        info.append(("queued_writes", .int(Int64(queued))))
        add(queued == 0 ? .ok : .warning, "registry", queued == 0 ? "no writes queued for the directory"
            : "\(queued) writes queued for the directory (sent by the next login that reaches it, or passkeyctl sync)")
    }

    /// What `pam_passkey_directory check` said it is bound as: "reachable; bound as WHO" (or,
    /// when the bind worked and the search did not, "…: why; bound as WHO") and, when the
    /// server maps the bind to another name, "; directory identity DN" (for gssapi WHO is the
    /// Kerberos principal, DN the host's entry).
    static func boundAs(_ message: String) -> (who: String, identity: String?)? {
        guard let (_, rest) = split(Substring(message), at: "bound as ") else { return nil }
        guard let (who, after) = split(rest, at: "; directory identity ") else { return (String(rest), nil) }
        return (String(who), String(split(after, at: " (")?.0 ?? after))
    }

    /// The text before and after the first `separator`, compared as UTF-8 bytes.
    private static func split(_ text: Substring, at separator: String) -> (Substring, Substring)? {
        let sep = Array(separator.utf8)
        var i = text.utf8.startIndex
        while i != text.utf8.endIndex {
            if text.utf8[i...].starts(with: sep) {
                let end = text.utf8.index(i, offsetBy: sep.count)
                return (text[..<i], text[end...])
            }
            i = text.utf8.index(after: i)
        }
        return nil
    }

    /// The directory's owner and mode, or nil (with an error finding) when the module would
    /// refuse it.
    private mutating func checkDirectory(_ path: String, topic: String, fix: String) -> (uid_t, UInt32)? {
        do {
            _ = try SecureDirectory.open(path)
        } catch .notFound(let missing) {
            add(.error, topic, "\(path) does not exist\(missing == path ? "" : " (\(missing) is missing)"); \(fix)")
            return nil
        } catch {
            add(.error, topic, "\(error)")
            return nil
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            add(.error, topic, "\(path): \(String(cString: strerror(errno)))")
            return nil
        }
        return (st.st_uid, UInt32(st.st_mode))
    }

    private mutating func checkPAM() {
        let stacks: PAMStacks
        do { stacks = try PAMStacks.read(directory: pamDirectory) } catch {
            add(.warning, "pam", "cannot read the PAM service files: \(error)")
            details.append(("pam", .object([("directory", .string(pamDirectory)), ("files", .array([])), ("common_auth", .bool(false))])))
            return
        }
        for (file, reason) in stacks.unreadable { add(.warning, "pam", "\(file) not checked: \(reason)") }
        if stacks.lines.isEmpty {
            add(.warning, "pam", "no service file in \(pamDirectory) uses pam_passkey.so, so nobody signs in with a passkey yet; enable it with pam-auth-update or add the pam_passkey lines to common-auth")
        }
        var fileDetails: [JSONValue] = []
        for file in stacks.files {
            let lines = stacks.lines.filter { $0.file == file }
            var lineDetails: [JSONValue] = []
            for l in lines {
                let resolved = PAMStacks.resolve(l.module)
                lineDetails.append(.object([("line", .int(l.number)), ("type", .string(l.type)), ("module", .string(l.module)),
                                            ("module_file", .string(resolved)), ("append", .bool(l.isAppendStep)),
                                            ("conf", .string(l.policyPath))]))
                let place = "\(file) line \(l.number)"
                if let resolved {
                    checkModuleFile(resolved, place: place)
                } else if l.mayBeMissing {
                    add(.warning, "pam", "\(place) names \(l.module), which does not exist; libpam skips that line (-\(l.type)), so passkeys are off there; install pam_passkey.so")
                } else {
                    add(.error, "pam", "\(place) names \(l.module), which does not exist: every \(l.type) through \(file) fails; install pam_passkey.so or remove the line")
                }
                if let conf = l.policyPath, conf != policyPath {
                    add(.info, "pam", "\(place) uses conf=\(conf), not \(policyPath) checked here; run passkeyctl status --conf \(conf)")
                }
            }
            let auth = lines.filter { $0.type == "auth" }
            var roles: [String] = []
            if auth.contains(where: { !$0.isAppendStep }) { roles.append("login step") }
            if auth.contains(where: \.isAppendStep) { roles.append("append step") }
            let others = Set(lines.filter { $0.type != "auth" }.map(\.type)).sorted()
            if !others.isEmpty { roles.append(others.joined(separator: ", ")) }
            add(.ok, "pam", "\(file) uses pam_passkey.so (\(roles.joined(separator: ", ")))")
            if auth.contains(where: { !$0.isAppendStep }) && !auth.contains(where: \.isAppendStep) {
                add(.info, "pam", "\(file) has no append line, so no passkey is offered after a password login there")
            }
            fileDetails.append(.object([("file", .string(file)), ("lines", .array(lineDetails))]))
        }
        if stacks.commonAuth {
            let by = stacks.includingCommonAuth
            add(.ok, "pam", "common-auth uses pam_passkey.so" + (by.isEmpty ? "" : ", so do the services including it (\(by.joined(separator: ", ")))"))
        } else {
            add(.info, "pam", "common-auth does not use pam_passkey.so")
        }
        for (level, text) in stacks.offerSafety() { add(level, "pam", text) }
        details.append(("pam", .object([("directory", .string(pamDirectory)), ("files", .array(fileDetails)),
                                        ("common_auth", .bool(stacks.commonAuth)),
                                        ("including_common_auth", .array(stacks.includingCommonAuth.map { .string($0) }))])))
    }

    /// libpam loads the module into every program that authenticates: it must be root's.
    private mutating func checkModuleFile(_ path: String, place: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let mode = UInt32(st.st_mode)
        if st.st_uid != 0 {
            add(.error, "pam", "\(place): \(path) is owned by uid \(st.st_uid); whoever owns it runs code in every login; chown root:root \(path)")
        } else if mode & 0o022 != 0 {
            add(.error, "pam", "\(place): \(path) is writable by group or others (mode \(octal(mode))); chmod go-w \(path)")
        }
    }
}

private func octal(_ mode: UInt32) -> String {
    let s = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

private func ownerText(_ uid: uid_t) -> String { uid == 0 ? "root" : "uid \(uid)" }
