#if canImport(Glibc)
import Glibc
#endif
import CPAM
import Crypto
import HostState
import Identifiers

// passkey-bench directory: what a login costs with `registry = ldap` (issue 14), through real
// libpam, the real module and helper and a real account (PAMBenchHost), against Debian's
// slapd on 127.0.0.1 with the shipped schema and access rules, started and torn down here.
//
//   - A passkey login (PIN, the shipped stack) and a step-aside (the user's passkey is bound
//     to another host: "your passkey is on another computer"), each over the files backend,
//     over the directory with a fresh cache (no contact) and with a stale cache
//     (registry_refresh = 0s: one `pam_passkey_directory refresh` per PAM call). The six
//     cases are measured interleaved, one transaction of each per round, so the machine's
//     load lands on all alike.
//     A stale login's refresh also sends the counter the previous login queued.
//   - One `pam_passkey_directory refresh USER` (the lookup a stale login pays: a process,
//     a bind, one subtree search, the cache written) with the user among 100 users and among
//     100,001 (a second database of the same slapd, loaded with slapadd), one of each in turn.
// Needs root and a build with the module, the helper and pam_passkey_directory beside this
// program; fails with the fix named when slapd or ldap-utils is missing.

/// The directory group's rows, and its line after the table.
struct DirectoryReport {
    var rows: [Figures]
    var footer: [String]
}

func directoryBenchmarks(rounds: Int = 200, lookups: Int = 100, manyUsers: Int = 100_000) throws -> DirectoryReport {
    guard geteuid() == 0 else { throw BenchError("directory: run as root (creates an account, runs slapd and the helper)") }
    for tool in [Slapd.slapd, Slapd.slapadd] + Slapd.clients where access(tool, X_OK) != 0 {
        throw BenchError("directory: \(tool) is missing; install slapd and ldap-utils (scripts/install-deps.sh)")
    }
    for schema in Slapd.systemSchemas where access(schema, R_OK) != 0 {
        throw BenchError("directory: \(schema) is missing; install slapd (scripts/install-deps.sh)")
    }
    let bench = try PAMBenchHost()
    defer { bench.tearDown() }
    let program = bench.products + "/pam_passkey_directory"
    guard access(program, X_OK) == 0 else { throw BenchError("directory: \(program) is missing; run `make build` first") }
    let shipped = try shippedLDAPDirectory(products: bench.products)
    // The ldap-utils clients and slapd read no ldap.conf, ldaprc or LDAP* variable (the
    // module's programs get a clean environment anyway).
    setenv("LDAPNOINIT", "1", 1)

    let slapd = try Slapd(schemaDirectory: shipped)
    defer { slapd.tearDown() }
    try slapd.start()
    try slapd.loadShippedSchema()
    // 99 users and the bench's account in the small tree; 100,000 in the large one.
    try slapd.populateSmall(users: 99)
    let t0 = monotonicMicros()
    try slapd.populateLarge(users: manyUsers)
    let loadSeconds = (monotonicMicros() - t0) / 1e6

    let sites = try DirectorySites(bench: bench, slapd: slapd, program: program)
    try sites.enrol()

    let pinPrompt = { (host: String) in "secret: PIN for \(bench.user)'s passkey on \(host): " }
    let elsewhere = { (host: String) in "info: Your passkey is on another computer (\(host))." }
    func pin(_ label: String, _ service: String, host: String) -> PAMCase {
        PAMCase(name: "directory: passkey login, \(label)", transaction: bench.transaction(service, answers: [PAMBenchHost.pin])) {
            $0.status == PAM_SUCCESS && $0.transcript == [pinPrompt(host)]
        }
    }
    func aside(_ label: String, _ service: String, passkeyOn host: String) -> PAMCase {
        PAMCase(name: "directory: steps aside, passkey elsewhere, \(label)", transaction: bench.transaction(service)) {
            $0.status == PAM_SUCCESS && $0.transcript == [elsewhere(host)]
        }
    }
    let logins = try measurePAMInterleaved([
        pin("files", "dir-files-pin", host: DirectorySites.filesA),
        aside("files", "dir-files-aside", passkeyOn: DirectorySites.filesA),
        pin("ldap, fresh cache", "dir-fresh-pin", host: DirectorySites.ldapA),
        aside("ldap, fresh cache", "dir-fresh-aside", passkeyOn: DirectorySites.ldapA),
        pin("ldap, stale cache (one refresh)", "dir-stale-pin", host: DirectorySites.ldapA),
        aside("ldap, stale cache (one refresh)", "dir-stale-aside", passkeyOn: DirectorySites.ldapA),
    ], iterations: rounds)
    // A refresh that failed would have let the stale logins use the cache without asking:
    // cheaper, and not what the row says.
    try sites.checkDirectoryAnswered()
    var rows = logins.flatMap { [$0.transaction, $0.authenticate] }
    let (filesPin, filesAside, freshPin, freshAside, stalePin, staleAside) =
        (logins[0].transaction, logins[1].transaction, logins[2].transaction, logins[3].transaction,
         logins[4].transaction, logins[5].transaction)

    // The lookup alone, as a stale login starts it: the user (one passkey) among 100 users and
    // among 100,001 (the large tree, in the same slapd), one of each in turn.
    let lookupCases = [("directory: pam_passkey_directory refresh USER, 100 users", sites.ldapAConf),
                       ("directory: pam_passkey_directory refresh USER, \(grouped(manyUsers + 1)) users", sites.largeConf)]
    var lookupSamples = [[Double]](repeating: [], count: lookupCases.count)
    for i in 0..<(5 + lookups) {
        for (c, (_, conf)) in lookupCases.enumerated() {
            let argv = [program, "--conf", conf, "refresh", bench.user]
            let t = monotonicMicros()
            let status = try run(argv)
            let elapsed = monotonicMicros() - t
            guard status == 0 else { throw BenchError("directory: \(argv.joined(separator: " ")) exited with status \(status)") }
            if i >= 5 { lookupSamples[c].append(elapsed) }
        }
    }
    let few = figures(lookupCases[0].0, lookupSamples[0]), many = figures(lookupCases[1].0, lookupSamples[1])
    rows += [few, many]

    let footer = [
        "directory: \(grouped(manyUsers)) users loaded in \(format(loadSeconds)) s (LDIF written, slapd stopped, slapadd -q, slapd started again)",
        "directory ldap_fresh/files pin=\(hundredths(freshPin.median / filesPin.median)) aside=\(hundredths(freshAside.median / filesAside.median)) "
            + "ldap_stale/files pin=\(hundredths(stalePin.median / filesPin.median)) aside=\(hundredths(staleAside.median / filesAside.median)) "
            + "lookup_\(manyUsers / 1000)k/lookup_100=\(hundredths(many.median / few.median))",
    ]
    return DirectoryReport(rows: rows, footer: footer)
}

private func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(d)
    }
    return out
}

/// Packaging/ldap of the source tree this program was built from: .build/<config>/ is two
/// levels below the package.
private func shippedLDAPDirectory(products: String) throws -> String {
    var candidates = [products + "/../../Packaging/ldap", products + "/../../../Packaging/ldap"]
    if let cwd = getcwd(nil, 0) {
        candidates.append(String(cString: cwd) + "/Packaging/ldap")
        free(cwd)
    }
    for c in candidates where access(c + "/pam_passkey.ldif", R_OK) == 0 && access(c + "/pam_passkey-access.ldif", R_OK) == 0 {
        return c
    }
    throw BenchError("directory: Packaging/ldap (pam_passkey.ldif, pam_passkey-access.ldif) not found beside the build; "
                     + "run the bench from the source tree's .build")
}

// MARK: - The simulated hosts

/// Five sites of the bench account on this machine, each with its own policy, machine id and
/// state: files-a and files-b share a files registry; ldap-a and ldap-b share the directory's
/// small tree, each bound as its own host account and with its own cache. The user enrols on
/// files-a and ldap-a (PIN logins there); on files-b and ldap-b the user's passkey is
/// elsewhere. ldap-large is ldap-a's twin in the large tree, for the lookup alone.
final class DirectorySites {
    static let filesA = "files-a", filesB = "files-b", ldapA = "ldap-a", ldapB = "ldap-b", ldapLarge = "ldap-large"

    let bench: PAMBenchHost
    let slapd: Slapd
    let ldapAConf: String
    let largeConf: String
    private let caches: [String]

    init(bench: PAMBenchHost, slapd: Slapd, program: String) throws {
        self.bench = bench
        self.slapd = slapd
        let dir = bench.directory
        mkdir(dir + "/dir-registry", 0o755)
        func site(_ name: String, extra: [String]) throws -> String {
            let machineID = "\(dir)/\(name).machine-id"
            if access(machineID, F_OK) != 0 {
                try writeFile(machineID, Base16.encode(SecureRandom.bytes(16)) + "\n", mode: 0o444)
            }
            mkdir("\(dir)/\(name).state", 0o700)
            let lines = ["rp_id = bench.example", "host_name = \(name)", "host_id_file = \(machineID)",
                         "registry_dir = \(dir)/dir-registry", "state_dir = \(dir)/\(name).state",
                         "helper = \(bench.products)/pam_passkey_helper"] + extra
            return lines.joined(separator: "\n") + "\n"
        }
        func ldap(_ name: String, _ tree: DirectoryTree) throws -> [String] {
            let password = Base64URL.encode(SecureRandom.bytes(18))
            let passwordFile = "\(dir)/\(name).ldap-password"
            try writeFile(passwordFile, password + "\n", mode: 0o600)
            let identity = try HostIdentity.load(hostIDFile: "\(dir)/\(name).machine-id", configuredName: name)
            try slapd.addHost(name, in: tree, password: password, hostID: identity.hostID)
            return ["registry = ldap", "ldap_uri = \(slapd.uri)", "ldap_base = \(tree.base)", "ldap_bind = simple",
                    "ldap_bind_dn = cn=\(name),\(tree.hosts)", "ldap_password_file = \(passwordFile)",
                    "registry_cache_dir = \(dir)/\(name).cache", "directory_program = \(program)", "registry_timeout = 2s"]
        }
        func conf(_ name: String) -> String { "\(dir)/\(name).conf" }
        for name in [Self.filesA, Self.filesB] { try writeFile(conf(name), try site(name, extra: []), mode: 0o644) }
        for (name, tree) in [(Self.ldapA, slapd.small), (Self.ldapB, slapd.small), (Self.ldapLarge, slapd.large)] {
            // The machine id first: the host account carries the id computed from it.
            _ = try site(name, extra: [])
            let settings = try ldap(name, tree)
            try writeFile(conf(name), try site(name, extra: settings + ["registry_refresh = 5m"]), mode: 0o644)
            // The same site (machine id, state, cache, account) whose cache is always stale.
            try writeFile(conf(name + "-stale"), try site(name, extra: settings + ["registry_refresh = 0s"]), mode: 0o644)
        }
        ldapAConf = conf(Self.ldapA)
        largeConf = conf(Self.ldapLarge)
        caches = [Self.ldapA, Self.ldapB, Self.ldapLarge].map { "\(dir)/\($0).cache" }

        let confdir = bench.confdir
        func shippedStack(_ service: String, _ conf: String) -> String {
            """
            auth [success=done default=ignore] \(bench.module) conf=\(conf) stack=\(confdir)/\(service)
            auth requisite pam_unix.so nodelay
            auth optional \(bench.module) conf=\(conf) stack=\(confdir)/\(service) append

            """
        }
        // As the pam group's step-aside: only PAM_IGNORE reaches pam_permit.
        func asideStack(_ conf: String) -> String {
            "auth [success=done ignore=ignore default=die] \(bench.module) conf=\(conf)\nauth required pam_permit.so\n"
        }
        let stacks = [
            "dir-files-pin": shippedStack("dir-files-pin", conf(Self.filesA)),
            "dir-files-aside": asideStack(conf(Self.filesB)),
            "dir-fresh-pin": shippedStack("dir-fresh-pin", conf(Self.ldapA)),
            "dir-fresh-aside": asideStack(conf(Self.ldapB)),
            "dir-stale-pin": shippedStack("dir-stale-pin", conf(Self.ldapA + "-stale")),
            "dir-stale-aside": asideStack(conf(Self.ldapB + "-stale")),
            "dir-large-pin": shippedStack("dir-large-pin", conf(Self.ldapLarge)),
        ]
        for (service, text) in stacks { try writeFile(confdir + "/" + service, text, mode: 0o644) }
    }

    /// The second-device flow's first login on files-a, ldap-a and ldap-large (where it sends
    /// the new credential to the directory).
    func enrol() throws {
        for service in ["dir-files-pin", "dir-fresh-pin", "dir-large-pin"] {
            var t = bench.transaction(service, answers: [bench.password, "y", PAMBenchHost.pin, PAMBenchHost.pin])
            t.setcred = true
            let outcome = t.run()
            guard outcome.status == PAM_SUCCESS, outcome.transcript.last?.hasPrefix("info: Passkey created.") == true else {
                throw BenchError("directory: enrollment on \(service) failed: status \(outcome.status), saw \(outcome.transcript)")
            }
        }
    }

    /// After a failed contact the module writes `.unreachable` and uses the cache without
    /// asking for a minute.
    func checkDirectoryAnswered() throws {
        for cache in caches where access(cache + "/.unreachable", F_OK) == 0 {
            throw BenchError("directory: a refresh failed during the run (\(cache)/.unreachable; the syslog says why), "
                             + "so the stale-cache figures would not include the lookup; see \(slapd.directory)/slapd.log")
        }
    }
}

// MARK: - slapd

/// One database of the bench's slapd: its suffix, the registry subtree and the hosts' one.
struct DirectoryTree {
    /// olcDatabase={index}mdb.
    let index: Int
    let suffix: String
    var base: String { "ou=pam_passkey,\(suffix)" }
    var hosts: String { "ou=hosts,\(suffix)" }
}

/// Debian's slapd in the foreground on a free 127.0.0.1 port and an ldapi socket, configured
/// the way Tests/Integration/slapd.py does it: cn=config written as LDIF and loaded with
/// `slapadd -n0` (core and cosine schemas, a config database root manages over ldapi, mdb
/// databases whose root DN is root over ldapi, so no password is needed), then the shipped
/// schema and access rules loaded over ldapi as an administrator would. Two databases: the
/// small one and the large one, so both lookups are measured against the same slapd in turn.
/// A janitor removes the directory (and stops a slapd still running) however this process ends.
final class Slapd {
    static let slapd = "/usr/sbin/slapd", slapadd = "/usr/sbin/slapadd"
    static let ldapadd = "/usr/bin/ldapadd", ldapmodify = "/usr/bin/ldapmodify", ldapwhoami = "/usr/bin/ldapwhoami"
    static let clients = [ldapadd, ldapmodify, ldapwhoami]
    static let systemSchemas = ["/etc/ldap/schema/core.ldif", "/etc/ldap/schema/cosine.ldif"]
    /// Root over ldapi (SASL EXTERNAL), as Debian names it.
    static let rootPeer = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
    /// What the shipped access rules name: the suffix and Debian's first database.
    static let exampleSuffix = "dc=example,dc=com", exampleDatabase = "olcDatabase={1}mdb,"

    let small = DirectoryTree(index: 1, suffix: "dc=pam-passkey,dc=bench")
    let large = DirectoryTree(index: 2, suffix: "dc=pam-passkey-large,dc=bench")
    let directory: String
    let schemaDirectory: String
    private(set) var port: Int32 = 0
    private(set) var pid: pid_t = 0
    private var janitor: Janitor?

    var uri: String { "ldap://127.0.0.1:\(port)/" }
    var ldapi: String { "ldapi://" + (directory + "/ldapi").replacing("/", with: "%2F") }
    private var configDirectory: String { directory + "/slapd.d" }

    init(schemaDirectory: String) throws {
        self.schemaDirectory = schemaDirectory
        // Short: an ldapi socket's path must fit in sun_path (108 bytes).
        var pattern = Array("/tmp/pkb-slapd.XXXXXX".utf8CString)
        guard let made = mkdtemp(&pattern) else { throw BenchError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        chmod(directory, 0o700)
        janitor = try Janitor(script: "if [ -s \"$1/slapd.pid\" ]; then kill \"$(cat \"$1/slapd.pid\")\" 2>/dev/null; sleep 1; fi; "
                              + "rm -rf -- \"$1\"", arguments: [directory])
        mkdir(configDirectory, 0o700)
        var schemas = ""
        for path in Self.systemSchemas { schemas += try readText(path).trimmingNewlines() + "\n\n" }
        var databases = ""
        for tree in [small, large] {
            let data = "\(directory)/data-\(tree.index)"
            mkdir(data, 0o700)
            // Debian's own rules for its first database behind the shipped ones.
            databases += """
                dn: olcDatabase={\(tree.index)}mdb,cn=config
                objectClass: olcDatabaseConfig
                objectClass: olcMdbConfig
                olcDatabase: {\(tree.index)}mdb
                olcSuffix: \(tree.suffix)
                olcRootDN: \(Self.rootPeer)
                olcDbDirectory: \(data)
                olcDbMaxSize: 2147483648
                olcDbIndex: objectClass eq
                olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
                olcAccess: {1}to * by * read


                """
        }
        try writeFile(directory + "/config.ldif", """
            dn: cn=config
            objectClass: olcGlobal
            cn: config
            olcPidFile: \(directory)/slapd.pid
            olcArgsFile: \(directory)/slapd.args

            dn: cn=module{0},cn=config
            objectClass: olcModuleList
            cn: module{0}
            olcModulePath: /usr/lib/ldap
            olcModuleLoad: {0}back_mdb

            dn: cn=schema,cn=config
            objectClass: olcSchemaConfig
            cn: schema

            \(schemas)dn: olcDatabase={-1}frontend,cn=config
            objectClass: olcDatabaseConfig
            objectClass: olcFrontendConfig
            olcDatabase: {-1}frontend

            dn: olcDatabase={0}config,cn=config
            objectClass: olcDatabaseConfig
            olcDatabase: {0}config
            olcAccess: {0}to * by dn.exact=\(Self.rootPeer) manage by * break

            \(databases)
            """, mode: 0o600)
        try check([Self.slapadd, "-n0", "-F", configDirectory, "-l", directory + "/config.ldif"], "slapadd -n0")
    }

    /// Starts slapd on a free port; retried on another port if that one was taken meanwhile.
    func start() throws {
        var lastError: Error? = nil
        for _ in 0..<3 {
            port = try freeLoopbackPort()
            do { try launch(); return } catch { lastError = error }
        }
        throw lastError ?? BenchError("directory: slapd did not start")
    }

    private func launch() throws {
        let log = open(directory + "/slapd.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw BenchError("open slapd.log: \(String(cString: strerror(errno)))") }
        defer { close(log) }
        pid = try spawn([Self.slapd, "-d", "none", "-F", configDirectory, "-h", "\(uri) \(ldapi)"], stdin: -1, stdout: log, stderr: log)
        let deadline = monotonicMicros() + 10e6
        while monotonicMicros() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                throw BenchError("directory: slapd exited at start; see \(directory)/slapd.log")
            }
            // Over ldapi: the socket is this slapd's alone; it answers once every listener is open.
            if try run([Self.ldapwhoami, "-x", "-H", ldapi, "-o", "nettimeout=1", "-o", "timeout=1"], quiet: true) == 0 { return }
            usleep(50_000)
        }
        stop()
        throw BenchError("directory: slapd did not answer within 10 s; see \(directory)/slapd.log")
    }

    /// SIGTERM, then SIGKILL after 10 s; waits for it.
    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        let deadline = monotonicMicros() + 10e6
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if monotonicMicros() > deadline { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
            usleep(20_000)
        }
        pid = 0
    }

    func tearDown() {
        stop()
        janitor?.finish()
        janitor = nil
    }

    /// The project's schema, then its access rules ahead of each database's own, with the
    /// database's suffix and number in place of the example ones.
    func loadShippedSchema() throws {
        try ldap(Self.ldapadd, try readText(schemaDirectory + "/pam_passkey.ldif"), "the shipped schema")
        let rules = try readText(schemaDirectory + "/pam_passkey-access.ldif")
        for tree in [small, large] {
            try ldap(Self.ldapmodify, rules.replacing(Self.exampleSuffix, with: tree.suffix)
                        .replacing(Self.exampleDatabase, with: "olcDatabase={\(tree.index)}mdb,"),
                     "the shipped access rules for \(tree.suffix)")
        }
    }

    private static func baseEntries(_ tree: DirectoryTree) -> String {
        """
        dn: \(tree.suffix)
        objectClass: dcObject
        objectClass: organization
        dc: \(tree.suffix.split(separator: ",").first?.dropFirst(3) ?? "")
        o: bench

        dn: \(tree.base)
        objectClass: organizationalUnit
        ou: pam_passkey

        dn: \(tree.hosts)
        objectClass: organizationalUnit
        ou: hosts


        """
    }

    /// The small tree's base entries and `users` users, added online.
    func populateSmall(users: Int) throws {
        try ldap(Self.ldapadd, Self.baseEntries(small) + Self.users(small, prefix: "few", count: users), "the small tree")
    }

    /// The large tree's base entries and `users` users, written as LDIF and loaded with
    /// `slapadd -q` into the stopped database (what an administrator loading a large directory
    /// does); slapd started again on the same port.
    func populateLarge(users: Int) throws {
        let path = directory + "/users.ldif"
        try writeFile(path, Self.baseEntries(large) + Self.users(large, prefix: "many", count: users), mode: 0o600)
        stop()
        try check([Self.slapadd, "-q", "-F", configDirectory, "-b", large.suffix, "-l", path], "slapadd of \(users) users")
        unlink(path)
        try launch()
    }

    func addHost(_ name: String, in tree: DirectoryTree, password: String, hostID: String) throws {
        try ldap(Self.ldapadd, """
            dn: cn=\(name),\(tree.hosts)
            objectClass: device
            objectClass: simpleSecurityObject
            objectClass: pamPasskeyHost
            cn: \(name)
            userPassword: \(password)
            pamPasskeyHostID: \(hostID)
            pamPasskeyHostName: \(name)

            """, "host account \(name)")
    }

    /// Users without passkeys.
    private static func users(_ tree: DirectoryTree, prefix: String, count: Int) -> String {
        var out = ""
        out.reserveCapacity(count * 120)
        for i in 0..<count {
            out += "dn: pamPasskeyUserName=\(prefix)\(i),\(tree.base)\nobjectClass: pamPasskeyUser\npamPasskeyUserName: \(prefix)\(i)\n\n"
        }
        return out
    }

    /// An ldap-utils client as root over ldapi (SASL EXTERNAL), with `ldif` on stdin.
    private func ldap(_ tool: String, _ ldif: String, _ what: String) throws {
        let status = try run([tool, "-Q", "-Y", "EXTERNAL", "-H", ldapi], input: ldif)
        guard status == 0 else { throw BenchError("directory: \(tool) of \(what) exited with status \(status); see its message above") }
    }

    private func check(_ argv: [String], _ what: String) throws {
        let status = try run(argv)
        guard status == 0 else { throw BenchError("directory: \(what) exited with status \(status); see its message above") }
    }
}

private func freeLoopbackPort() throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
            bind(fd, p, length) == 0 && getsockname(fd, p, &length) == 0
        }
    }
    guard bound else { throw BenchError("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
    return Int32(UInt16(bigEndian: address.sin_port))
}

private func readText(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BenchError("open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw BenchError("read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

private extension String {
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
