#if canImport(Glibc)
import Glibc
#endif
import CPAM
import Crypto
import Registry
import Storage
import WebAuthn
import Identifiers

// passkey-bench pam: what a login costs through real libpam and the real module, side by
// side with pam_permit and pam_unix in the same run, and what loading the module adds to the
// host process. Needs root (useradd, the helper, /etc/shadow) and a build with the module
// and the helper beside this program.
//
// Every PAM figure is one whole transaction, pam_start_confdir to pam_end, because that is
// the unit an application pays per login (pam_start is where libpam reads the stack and
// loads the modules); pam_authenticate alone is printed too. The ratio line compares
// medians of whole transactions.

/// The pam group's rows, and what is printed after the table.
struct PAMReport {
    var rows: [Figures]
    var footer: [String]
}

func pamBenchmarks(measuredSoFar: [Figures]) throws -> PAMReport {
    guard access(PAMBenchHost.u2fModule, R_OK) == 0 else {
        throw BenchError("pam: \(PAMBenchHost.u2fModule) is missing; install libpam-u2f (scripts/install-deps.sh)")
    }
    let bench = try PAMBenchHost()
    defer { bench.tearDown() }
    var rows: [Figures] = []
    // Each ratio on the last line compares two stacks measured interleaved — one transaction
    // of each in turn — so a busy moment of the machine (another build on the same cores)
    // lands on both alike; measured one after the other, the ratio moved by ±0.4 from one run
    // to the next.
    // The stack lets only PAM_IGNORE through to pam_permit: a module that failed instead of
    // stepping aside would fail the transaction, and the benchmark with it.
    let permitCase = PAMCase(name: "pam_permit alone", transaction: bench.transaction("permit")) {
        $0.status == PAM_SUCCESS && $0.transcript.isEmpty
    }
    let beside = try measurePAMInterleaved([
        permitCase,
        PAMCase(name: "pam_passkey steps aside, local", transaction: bench.transaction("stepaside")) {
            $0.status == PAM_SUCCESS && $0.transcript.isEmpty
        },
        PAMCase(name: "pam_passkey steps aside, remote", transaction: bench.transaction("stepaside", rhost: "203.0.113.5")) {
            $0.status == PAM_SUCCESS && $0.transcript.isEmpty
        },
    ], iterations: 1000)
    let (permit, local, remote) = (beside[0], beside[1], beside[2])
    // The peer a site would pick instead: Debian's pam_u2f with no key plugged. For a user
    // without keys (no key file; nouserok) it declines, as pam_passkey steps aside for a user
    // without passkeys; for a user with a key registered it looks for the key and finds none,
    // as pam_passkey finds the user's passkeys are elsewhere.
    let u2f = try measurePAM("pam_u2f, user without keys", iterations: 1000, bench.transaction("u2f")) {
        $0.status == PAM_SUCCESS && $0.transcript.isEmpty
    }
    let u2fUnplugged = try measurePAM("pam_u2f, user's key not plugged", iterations: 1000, bench.transaction("u2f-unplugged")) {
        $0.status == PAM_SUCCESS
    }

    // One login per process, as login, su and each sshd session run: before the user has a
    // passkey (the step-aside), beside the same stacks of pam_permit, pam_unix and pam_u2f.
    let fresh = try measureFresh(bench, rounds: 25)
    rows += fresh.rows

    // The seed's own case: the user's passkeys are all bound to other hosts.
    try bench.addCredentialElsewhere()
    let elsewhereInfo = "info: Your passkey is on another computer (\(PAMBenchHost.otherHostName))."
    // Beside pam_permit again, for its ratio (that pam_permit is not printed a second time).
    let elsewhereBeside = try measurePAMInterleaved([
        permitCase,
        PAMCase(name: "pam_passkey steps aside, credentials elsewhere", transaction: bench.transaction("stepaside")) {
            $0.status == PAM_SUCCESS && $0.transcript == [elsewhereInfo]
        },
    ], iterations: 1000)
    let (permitBesideElsewhere, elsewhere) = (elsewhereBeside[0], elsewhereBeside[1])

    try bench.enrol()
    let pinPrompt = "secret: PIN for \(bench.user)'s passkey on \(PAMBenchHost.hostName): "
    let logins = try measurePAMInterleaved([
        PAMCase(name: "pam_unix nodelay, real password", transaction: bench.transaction("unix", answers: [bench.password])) {
            $0.status == PAM_SUCCESS && $0.transcript == ["secret: Password: "]
        },
        PAMCase(name: "passkey login, default pin_kdf_cost", transaction: bench.transaction("passkey", answers: [PAMBenchHost.pin])) {
            $0.status == PAM_SUCCESS && $0.transcript == [pinPrompt]
        },
    ], iterations: 200)
    let (unix, passkey) = (logins[0], logins[1])
    for pair in [permit, unix, u2f, u2fUnplugged, local, remote, elsewhere, passkey] { rows += [pair.transaction, pair.authenticate] }

    // The same login with the key in a TPM (swtpm: a chip is slower), as a whole transaction.
    if access("/usr/bin/swtpm", X_OK) == 0 {
        let tpm = try BenchTPM()
        _ = try bench.writeTPMPolicy(tcti: tpm.tcti)
        try bench.enrol(service: "passkey-tpm")
        let tpmLogin = try measurePAM("passkey login, TPM (swtpm)", iterations: 50,
                                      bench.transaction("passkey-tpm", answers: [PAMBenchHost.pin])) {
            $0.status == PAM_SUCCESS && $0.transcript == [pinPrompt]
        }
        rows += [tpmLogin.transaction, tpmLogin.authenticate]
        withExtendedLifetime(tpm) {}
    }

    let sshd = try measureFootprint(bench, host: .sshd, processes: 20)
    let login = try measureFootprint(bench, host: .login, processes: 20)
    let u2fSSHD = try measureFootprint(bench, host: .sshd, processes: 10, module: PAMBenchHost.u2fModule, service: "u2f")
    let u2fLogin = try measureFootprint(bench, host: .login, processes: 10, module: PAMBenchHost.u2fModule, service: "u2f")
    rows += [sshd.load, login.load, u2fSSHD.load, u2fLogin.load]

    // The isolated costs behind those logins, from the groups that measure them; figures
    // that group already printed in this run are reused, not measured again.
    for b in try isolatedLoginCosts() {
        if measuredSoFar.contains(where: { $0.name == b.name }) { continue }
        rows.append(try measure(b))
    }

    // fresh/u2f: the worse of the two hosts, so the figure holds for both.
    let freshRatio = max(fresh.stepAside[.sshd]!.median / fresh.u2f[.sshd]!.median,
                         fresh.stepAside[.login]!.median / fresh.u2f[.login]!.median)
    let footer = [sshd.summary, login.summary, u2fSSHD.summary, u2fLogin.summary] + fresh.summaries + [
        "ratio passkey/unix=\(ratio(passkey.transaction, unix.transaction)) stepaside/permit=\(ratio(local.transaction, permit.transaction)) "
            + "elsewhere/permit=\(ratio(elsewhere.transaction, permitBesideElsewhere.transaction)) fresh/u2f=\(hundredths(freshRatio)) "
            + "rss_kb=\(sshd.afterKB) rss_login_kb=\(login.afterKB)",
    ]
    return PAMReport(rows: rows, footer: footer)
}

private func ratio(_ a: Figures, _ b: Figures) -> String { hundredths(a.median / b.median) }

func hundredths(_ value: Double) -> String {
    let r = Int((value * 100).rounded())
    let cents = r % 100
    return "\(r / 100).\(cents < 10 ? "0" : "")\(cents)"
}

/// A decision, an assertion verification and a registry read, as their groups define them.
func isolatedLoginCosts() throws -> [Benchmark] {
    func pick(_ all: [Benchmark], _ name: String) throws -> Benchmark {
        guard let b = all.first(where: { $0.name == name }) else { throw BenchError("no benchmark named \"\(name)\"") }
        return b
    }
    return [
        try pick(try intelligenceBenchmarks(), "decision: held here → passkey"),
        try pick(try intelligenceBenchmarks(), "decision: elsewhere → offer (rollout 90%)"),
        try pick(try webAuthnBenchmarks(), "ES256 assertion verify (full)"),
        registryReadBenchmark(try BenchRegistry(users: 10)),
    ]
}

/// One stack of an interleaved measurement: its name, its transaction, and what every
/// outcome must look like.
struct PAMCase {
    var name: String
    var transaction: PAMTransaction
    var check: (PAMTransaction.Outcome) -> Bool
}

/// `measurePAM` for several stacks at once: each round runs one transaction of each case, in
/// turn, so all of them see the machine in the same state. Figures in the order of `cases`.
func measurePAMInterleaved(_ cases: [PAMCase], iterations: Int) throws -> [(transaction: Figures, authenticate: Figures)] {
    let warmUp = min(10, max(1, iterations / 10))
    var whole = [[Double]](repeating: [], count: cases.count)
    var authenticate = whole
    for i in 0..<(warmUp + iterations) {
        for (c, pamCase) in zip(0..., cases) {
            let outcome = pamCase.transaction.run()
            guard pamCase.check(outcome) else {
                throw BenchError("\(pamCase.name): unexpected outcome: status \(outcome.status) "
                                 + "(\(String(cString: pam_strerror(nil, outcome.status)))), saw \(outcome.transcript)")
            }
            if i >= warmUp {
                whole[c].append(outcome.transactionMicros)
                authenticate[c].append(outcome.authenticateMicros)
            }
        }
    }
    return zip(cases, zip(whole, authenticate)).map { pamCase, samples in
        (figures("pam: \(pamCase.name)", samples.0), figures("pam: \(pamCase.name) (pam_authenticate only)", samples.1))
    }
}

/// Runs `transaction` `iterations` times after a warm-up; every outcome must pass `check`,
/// so a broken setup fails the benchmark instead of timing a failure.
func measurePAM(_ name: String, iterations: Int, _ transaction: PAMTransaction,
                check: (PAMTransaction.Outcome) -> Bool) throws -> (transaction: Figures, authenticate: Figures) {
    var whole: [Double] = [], authenticate: [Double] = []
    for i in 0..<(min(10, max(1, iterations / 10)) + iterations) {
        let outcome = transaction.run()
        guard check(outcome) else {
            throw BenchError("\(name): unexpected outcome: status \(outcome.status) (\(String(cString: pam_strerror(nil, outcome.status)))), "
                             + "saw \(outcome.transcript)")
        }
        if i >= min(10, max(1, iterations / 10)) {
            whole.append(outcome.transactionMicros)
            authenticate.append(outcome.authenticateMicros)
        }
    }
    return (figures("pam: \(name)", whole), figures("pam: \(name) (pam_authenticate only)", authenticate))
}

// MARK: - Footprint

/// The kind of PAM application the module is loaded into.
enum FootprintHost: String {
    /// libcrypto already loaded and initialised (sshd): the figure on the ratio line.
    case sshd
    /// No libcrypto before the module brings it in (login, su, sudo).
    case login

    var description: String {
        switch self {
        case .sshd: return "in an sshd-like host (libcrypto already in use)"
        case .login: return "in a login-like host (no libcrypto until the module loads it)"
        }
    }
}

struct Footprint {
    var host: FootprintHost
    /// The module's file name, as the summary names it.
    var module: String
    var load: Figures
    var loadedKB: Int
    var afterKB: Int
    /// The private part of `afterKB` (heap, dirtied data); the rest is file pages of the
    /// module and its libraries, shared with every other process that maps them.
    var anonymousAfterKB: Int
    var processes: Int

    var summary: String {
        "footprint \(host.description): VmRSS +\(loadedKB) kB after dlopen of \(module), +\(afterKB) kB after one login through it, "
            + "of which private (RssAnon) +\(anonymousAfterKB) kB (median of \(processes) fresh processes)"
    }
}

/// Each sample is a fresh `passkey-footprint-probe` (Sources/FootprintProbe: a C program
/// linked with libpam only, as PAM applications are; built by `make build`): it runs one
/// pam_permit transaction so libpam's own first use is not counted, reads VmRSS, dlopens the
/// module (timed), reads VmRSS, runs one passkey login through a stack of the module alone,
/// reads VmRSS. Median over `processes` runs.
/// `module` and `service` measure another module the same way (pam_u2f beside pam_passkey).
func measureFootprint(_ bench: PAMBenchHost, host: FootprintHost, processes: Int, module: String? = nil,
                      service: String = "footprint") throws -> Footprint {
    let module = module ?? bench.module
    let probe = bench.products + "/passkey-footprint-probe"
    guard access(probe, X_OK) == 0 else { throw BenchError("pam: \(probe) is missing; run `make build` first") }
    var loads: [Double] = [], loaded: [Int] = [], after: [Int] = [], anonymous: [Int] = []
    for _ in 0..<processes {
        let output = try runCapturingOutput([probe, host.rawValue, bench.confdir, bench.user, PAMBenchHost.pin, module, service])
        var values: [String: Double] = [:]
        for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let kv = field.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let v = Double(kv[1]) { values[String(kv[0])] = v }
        }
        guard let load = values["load_us"], let before = values["rss_before_kb"], let l = values["rss_loaded_kb"],
              let a = values["rss_after_kb"], let anonBefore = values["anon_before_kb"], let anonAfter = values["anon_after_kb"] else {
            throw BenchError("footprint probe printed \"\(output)\"")
        }
        loads.append(load)
        loaded.append(Int(l - before))
        after.append(Int(a - before))
        anonymous.append(Int(anonAfter - anonBefore))
    }
    func median(_ v: [Int]) -> Int { v.sorted()[v.count / 2] }
    let name = String(module.split(separator: "/").last ?? "")
    return Footprint(host: host, module: name, load: figures("\(name) dlopen, fresh process, \(host.rawValue)-like host", loads),
                     loadedKB: median(loaded), afterKB: median(after), anonymousAfterKB: median(anonymous), processes: processes)
}

// MARK: - Fresh processes

/// One login per process, per host kind and stack.
struct FreshFigures {
    var rows: [Figures]
    var stepAside: [FootprintHost: Figures]
    var u2f: [FootprintHost: Figures]
    var summaries: [String]
}

/// Each sample is a fresh `passkey-footprint-probe fresh-HOST`: one transaction, pam_start to
/// pam_end, in a process that has made none (libpam's first use, each module of the stack
/// loaded with its libraries, the login). Every round runs each stack in each host once, in
/// a shuffled order, so a busy moment of the machine lands on all of them alike.
func measureFresh(_ bench: PAMBenchHost, rounds: Int) throws -> FreshFigures {
    let probe = bench.products + "/passkey-footprint-probe"
    guard access(probe, X_OK) == 0 else { throw BenchError("pam: \(probe) is missing; run `make build` first") }
    let stacks: [(service: String, label: String, answer: String)] = [
        ("permit", "pam_permit", "-"), ("unix", "pam_unix, real password", bench.password),
        ("u2f", "pam_u2f, user without keys", "-"), ("u2f-unplugged", "pam_u2f, user's key not plugged", "-"),
        ("stepaside", "pam_passkey steps aside", "-"),
    ]
    let hosts: [FootprintHost] = [.sshd, .login]
    var samples: [String: [Double]] = [:]
    // The parts of each transaction: pam_start (loading the modules), pam_authenticate, pam_end.
    let parts = ["start_us", "auth_us", "end_us"]
    var partSamples: [String: [Double]] = [:]
    var cases = hosts.flatMap { host in stacks.map { (host, $0) } }
    for round in 0..<(rounds + 1) {
        cases.shuffle()
        for (host, stack) in cases {
            let output = try runCapturingOutput([probe, "fresh-" + host.rawValue, bench.confdir, bench.user, stack.answer, stack.service])
            var values: [String: Double] = [:]
            for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let kv = field.split(separator: "=", maxSplits: 1)
                if kv.count == 2, let v = Double(kv[1]) { values[String(kv[0])] = v }
            }
            guard let micros = values["fresh_us"], parts.allSatisfy({ values[$0] != nil }),
                  values["status"] == Double(PAM_SUCCESS) else {
                throw BenchError("fresh \(host.rawValue) \(stack.service): probe printed \"\(output)\"")
            }
            // Round 0 warms the page cache with every library; it is not counted.
            if round > 0 {
                samples[host.rawValue + "/" + stack.service, default: []].append(micros)
                for part in parts { partSamples[host.rawValue + "/" + stack.service + "/" + part, default: []].append(values[part]!) }
            }
        }
    }
    var result = FreshFigures(rows: [], stepAside: [:], u2f: [:], summaries: [])
    for host in hosts {
        var byService: [String: Figures] = [:]
        for stack in stacks {
            let f = figures("pam: fresh \(host.rawValue)-like process, \(stack.label)", samples[host.rawValue + "/" + stack.service]!)
            byService[stack.service] = f
            result.rows.append(f)
        }
        result.stepAside[host] = byService["stepaside"]
        result.u2f[host] = byService["u2f"]
        let permit = byService["permit"]!.median
        result.summaries.append("fresh \(host.rawValue)-like process, one login (median of \(rounds), ratio to pam_permit): "
            + stacks.map { "\($0.service) \(format(byService[$0.service]!.median)) µs (\(hundredths(byService[$0.service]!.median / permit))×)" }
                .joined(separator: ", "))
        result.summaries.append("fresh \(host.rawValue)-like process, where the time goes (medians, µs: pam_start, which loads the modules / "
            + "the first pam_authenticate / pam_end): "
            + stacks.map { stack in
                "\(stack.service) " + parts.map { format(figures("", partSamples[host.rawValue + "/" + stack.service + "/" + $0]!).median) }
                    .joined(separator: " / ")
            }.joined(separator: ", "))
    }
    return result
}

// MARK: - The bench host

/// A simulated host in a fresh directory under /var/tmp (on disk, like /var/lib: the
/// registry and history writes are fsynced): policy, machine id, registry, state, service
/// files; and a throwaway account with a random password. A janitor process removes the
/// account and the directory when this process ends, however it ends.
final class PAMBenchHost {
    static let hostName = "bench-host"
    static let otherHostName = "bench-other-host"
    static let pin = "482913"
    /// Debian's libpam-u2f.
    static let u2fModule = "/lib/x86_64-linux-gnu/security/pam_u2f.so"

    let directory: String
    let confdir: String
    /// The folder this program and the other products are in.
    let products: String
    let module: String
    let user: String
    let password: String
    private let janitor: Janitor

    init() throws {
        guard geteuid() == 0 else { throw BenchError("pam: run as root (creates an account, runs the helper)") }
        products = "/" + String(selfPath().split(separator: "/").dropLast().joined(separator: "/"))
        // `make build` links pam_passkey.so to SwiftPM's libpam_passkey.so; a bare `swift build` has only the latter.
        let built = access(products + "/pam_passkey.so", R_OK) == 0 ? products + "/pam_passkey.so" : products + "/libpam_passkey.so"
        let helper = products + "/pam_passkey_helper"
        for p in [built, helper] where access(p, R_OK) != 0 {
            throw BenchError("pam: \(p) is missing; run `make build` first")
        }
        var pattern = Array("/var/tmp/passkey-bench-pam.XXXXXX".utf8CString)
        guard let made = mkdtemp(&pattern) else { throw BenchError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        user = "pkbench" + Base16.encode(SecureRandom.bytes(3))
        password = "Bench-" + Base64URL.encode(SecureRandom.bytes(12))
        confdir = directory + "/pam.d"
        janitor = try Janitor(account: user, directory: directory)
        // A fresh copy of the build's module, as an install writes one: the whole file in the
        // page cache. The memory figures depend on that state (after a drop of the caches the
        // same module measured 3708 kB instead of 3980), so every run starts from the same one.
        let module = directory + "/pam_passkey.so"
        guard try run(["/bin/cp", built, module]) == 0 else { throw BenchError("cp \(built) \(module) failed") }
        self.module = module

        chmod(directory, 0o755)
        mkdir(directory + "/registry", 0o755)
        mkdir(directory + "/state", 0o700)
        mkdir(confdir, 0o755)
        let conf = directory + "/pam_passkey.conf"
        try writeFile(directory + "/machine-id", Base16.encode(SecureRandom.bytes(16)) + "\n", mode: 0o444)
        // Everything else at its default: pin_kdf_cost, authenticator = auto, timeouts.
        try writeFile(conf, """
            rp_id = bench.example
            host_name = \(Self.hostName)
            host_id_file = \(directory)/machine-id
            registry_dir = \(directory)/registry
            state_dir = \(directory)/state
            helper = \(helper)

            """, mode: 0o644)
        let stacks = [
            "permit": "auth required pam_permit.so\n",
            "unix": "auth required pam_unix.so nodelay\n",
            "stepaside": "auth [success=done ignore=ignore default=die] \(module) conf=\(conf)\nauth required pam_permit.so\n",
            // The shipped stack (pam.d/, docs/ARCHITECTURE.md); stack= names this private directory's
            // file, which the append step checks before it offers.
            "passkey": """
                auth [success=done default=ignore] \(module) conf=\(conf) stack=\(confdir)/passkey
                auth requisite pam_unix.so nodelay
                auth optional \(module) conf=\(conf) stack=\(confdir)/passkey append

                """,
            // The shipped stack again, with a policy whose authenticator is a TPM (writeTPMPolicy).
            "passkey-tpm": """
                auth [success=done default=ignore] \(module) conf=\(directory)/tpm.conf stack=\(confdir)/passkey-tpm
                auth requisite pam_unix.so nodelay
                auth optional \(module) conf=\(directory)/tpm.conf stack=\(confdir)/passkey-tpm append

                """,
            "footprint": "auth required \(module) conf=\(conf)\n",
            // No key file for the user: pam_u2f declines (nouserok) without looking for a key.
            "u2f": "auth [success=done ignore=ignore default=die] \(Self.u2fModule) authfile=\(directory)/u2f_none nouserok\n"
                + "auth required pam_permit.so\n",
            // A key registered, none plugged: pam_u2f looks for it and fails; the password would follow.
            "u2f-unplugged": "auth [success=die default=ignore] \(Self.u2fModule) authfile=\(directory)/u2f_keys\n"
                + "auth required pam_permit.so\n",
            "other": "auth required pam_deny.so\n",
        ]
        for (service, text) in stacks { try writeFile(confdir + "/" + service, text, mode: 0o644) }
        // pam_u2f's format: user:keyHandle,publicKey,COSE type,options (a key that is never plugged).
        try writeFile(directory + "/u2f_keys", "\(user):\(Base64URL.encode(SecureRandom.bytes(64))),"
                      + "\(Base64URL.encode(SecureRandom.bytes(65))),es256,+presence\n", mode: 0o644)

        guard try run(["/usr/sbin/useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                       "--comment", "passkey-bench throwaway account", user]) == 0 else {
            throw BenchError("useradd \(user) failed")
        }
        guard try run(["/usr/sbin/chpasswd"], input: "\(user):\(password)\n") == 0 else {
            throw BenchError("chpasswd \(user) failed")
        }
    }

    func transaction(_ service: String, answers: [String] = [], rhost: String? = nil) -> PAMTransaction {
        PAMTransaction(service: service, user: user, confdir: confdir, answers: answers, rhost: rhost)
    }

    /// A platform credential of the user bound to another host, as a shared registry holds it
    /// once the user has a passkey elsewhere: this host steps aside with "your passkey is on
    /// another computer".
    func addCredentialElsewhere() throws {
        let name = try UserName(validating: user)
        let registry = FileRegistry(directory: directory + "/registry")
        let created = HostEvent(time: currentEpochSeconds(), host: Self.otherHostName)
        let credential = CredentialRecord(
            id: CredentialID(SecureRandom.bytes(16)), publicKey: Base64URL.encode(SecureRandom.bytes(77)), kind: .platform,
            hostID: Base16.encode(SecureRandom.bytes(16)), hostName: Self.otherHostName,
            aaguid: "00000000-0000-0000-0000-000000000000", created: created,
            attestationObject: Base64URL.encode(SecureRandom.bytes(32)), clientDataJSON: Base64URL.encode(SecureRandom.bytes(32)))
        try registry.update(user: name) { _ = $0.add(credential) }
    }

    /// A second site on this host whose authenticator is the TPM at `tcti`, with a registry
    /// and state of its own (the software passkey is not this site's). Returns its path.
    func writeTPMPolicy(tcti: String) throws -> String {
        mkdir(directory + "/registry-tpm", 0o755)
        mkdir(directory + "/state-tpm", 0o700)
        let conf = directory + "/tpm.conf"
        try writeFile(conf, """
            rp_id = bench.example
            host_name = \(Self.hostName)
            host_id_file = \(directory)/machine-id
            registry_dir = \(directory)/registry-tpm
            state_dir = \(directory)/state-tpm
            helper = \(products)/pam_passkey_helper
            authenticator = tpm
            tcti = \(tcti)

            """, mode: 0o644)
        return conf
    }

    /// The second-device flow's first login: the password, "y" to the offer, the PIN twice.
    func enrol(service: String = "passkey") throws {
        var t = transaction(service, answers: [password, "y", Self.pin, Self.pin])
        t.setcred = true
        let outcome = t.run()
        guard outcome.status == PAM_SUCCESS, outcome.transcript.last?.hasPrefix("info: Passkey created.") == true else {
            throw BenchError("pam: enrollment failed: status \(outcome.status), saw \(outcome.transcript)")
        }
    }

    func tearDown() { janitor.finish() }
}

/// `sh` in a process group of its own (a ^C to the bench does not reach it) waiting on a
/// pipe only this process holds: when the pipe closes — finish(), exit, crash or SIGKILL —
/// it runs `script` (by default: deletes the account and the directory).
final class Janitor {
    let pid: pid_t
    private var writeFD: Int32

    convenience init(account: String, directory: String) throws {
        try self.init(script: "userdel \"$1\"; rm -rf -- \"$2\"", arguments: [account, directory])
    }

    /// `script` runs under `sh -c` with `arguments` as $1, $2, …
    init(script: String, arguments: [String]) throws {
        let fds = try closeOnExecPipe()
        defer { close(fds[0]) }
        writeFD = fds[1]
        pid = try spawn(["/bin/sh", "-c", "read _; " + script, "janitor"] + arguments, stdin: fds[0], stdout: -1, ownGroup: true)
    }

    func finish() {
        guard writeFD >= 0 else { return }
        close(writeFD)
        writeFD = -1
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    deinit { finish() }
}

// MARK: - Processes and files

private func selfPath() -> String {
    guard let p = realpath(CommandLine.arguments[0], nil) else { return CommandLine.arguments[0] }
    defer { free(p) }
    return String(cString: p)
}

func writeFile(_ path: String, _ text: String, mode: mode_t) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
    guard fd >= 0 else { throw BenchError("create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
        throw BenchError("write \(path): \(String(cString: strerror(errno)))")
    }
    fchmod(fd, mode)
}

/// Both ends close on exec: no child inherits them except through an explicit dup2.
func closeOnExecPipe() throws -> [Int32] {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw BenchError("pipe: \(String(cString: strerror(errno)))") }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fds
}

/// Runs `argv` (stdout to /dev/null; stderr too when `quiet`), feeding `input` on stdin; its
/// exit status.
func run(_ argv: [String], input: String? = nil, quiet: Bool = false) throws -> Int32 {
    let fds = try closeOnExecPipe()
    let null = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1
    defer { if null >= 0 { close(null) } }
    let pid: pid_t
    do { pid = try spawn(argv, stdin: fds[0], stdout: -1, stderr: null >= 0 ? null : nil) } catch {
        close(fds[0]); close(fds[1])
        throw error
    }
    close(fds[0])
    let bytes = Array((input ?? "").utf8)
    _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    close(fds[1])
    return try wait(pid, argv[0])
}

/// Runs `argv` and returns what it printed on stdout; fails unless it exits 0.
func runCapturingOutput(_ argv: [String]) throws -> String {
    let fds = try closeOnExecPipe()
    let pid: pid_t
    do { pid = try spawn(argv, stdin: -1, stdout: fds[1]) } catch {
        close(fds[0]); close(fds[1])
        throw error
    }
    close(fds[1])
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fds[0], &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        output += buffer[0..<n]
    }
    close(fds[0])
    let status = try wait(pid, argv[0])
    guard status == 0 else { throw BenchError("\(argv.joined(separator: " ")) exited with status \(status)") }
    return String(decoding: output, as: UTF8.self)
}

/// posix_spawn with stdin and stdout from the given descriptors (-1: /dev/null); stderr is
/// inherited so a failing child says why, unless `stderr` names a descriptor for it.
func spawn(_ argv: [String], stdin: Int32, stdout: Int32, stderr: Int32? = nil, ownGroup: Bool = false) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if stdin >= 0 { posix_spawn_file_actions_adddup2(&actions, stdin, 0) } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    if stdout >= 0 { posix_spawn_file_actions_adddup2(&actions, stdout, 1) } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) } else if ownGroup {
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    if ownGroup {
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    }
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, environ)
    guard rc == 0 else { throw BenchError("posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
    return pid
}

func wait(_ pid: pid_t, _ name: String) throws -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw BenchError("waitpid \(name): \(String(cString: strerror(errno)))") }
    }
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
