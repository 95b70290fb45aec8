import Identifiers
#if canImport(Glibc)
import Glibc
#endif
import Authenticator
import Crypto
import HelperProtocol

/// getAssertion through a swtpm started here (TPM2_CreatePrimary, TPM2_Load, a salted session
/// and TPM2_Sign per PIN attempt, plus the check before the prompt), and the probes the
/// helper makes. swtpm is a software TPM: a chip is slower, so read these as the cost of our
/// side and of the protocol, not of hardware.
func tpmBenchmarks() throws -> [Benchmark] {
    guard access("/usr/bin/swtpm", X_OK) == 0 else {
        print("tpm: /usr/bin/swtpm is missing (make deps installs it); TPM benchmarks skipped")
        return []
    }
    let tpm = try BenchTPM()
    let settings = TPMAuthenticator.Settings(tcti: tpm.tcti, pinMinLength: 6, pinMaxAttempts: 5)
    // What the helper does after each reply (the counter reset), done here after each signature.
    let afterReply = AfterReply()
    let alice = try UserName(validating: "alice")
    let authenticator = TPMAuthenticator(store: KeyringStore<TPMCredential>(stateDirectory: tpm.directory + "/state", backend: "tpm"), settings: settings,
                                         afterReply: afterReply, now: { 1_700_000_000 })
    let pin = BenchPIN()
    let created = try authenticator.makeCredential(
        MakeCredentialRequest(user: alice, rpID: "bench.example", clientDataHash: SHA256.hash([1]), userHandle: [1]), pins: pin)
    let request = GetAssertionRequest(user: alice, rpID: "bench.example", clientDataHash: SHA256.hash([2]),
                                      allowCredentials: [created.credentialID])
    return [
        Benchmark(group: "tpm", name: "TPM getAssertion, right PIN (swtpm)", iterations: 50) {
            _ = try authenticator.getAssertion(request, pins: pin)
            precondition(afterReply.run().isEmpty)
            _ = tpm  // keeps swtpm running while the benchmarks exist
        },
        Benchmark(group: "tpm", name: "TPM probe: credentials load (swtpm)", iterations: 50) {
            let held = try authenticator.credentials(user: alice, rpID: "bench.example")
            precondition(held.count == 1)
        },
        Benchmark(group: "tpm", name: "TPM presence check (auto, swtpm)", iterations: 200) {
            precondition(TPMAuthenticator.presence(tcti: tpm.tcti, timeoutMilliseconds: 1500) == .answering(problem: nil))
        },
    ]
}

struct BenchPIN: PINPrompter {
    func answer(_ question: PINQuestion) throws(HelperFailure) -> SecretBytes? { SecretBytes(Array("482913".utf8)) }
}

/// swtpm on a unix socket in a fresh directory; stopped and removed when released.
final class BenchTPM {
    let directory: String
    let pid: pid_t
    var tcti: String { "swtpm:path=\(directory)/swtpm.sock" }

    init() throws {
        var pattern = Array("/tmp/passkey-bench-tpm.XXXXXX".utf8CString)
        guard let made = mkdtemp(&pattern) else { fatalError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        mkdir(directory + "/tpm", 0o700)
        mkdir(directory + "/state", 0o700)
        let socket = directory + "/swtpm.sock"
        pid = Self.spawn(["/usr/bin/swtpm", "socket", "--tpm2", "--tpmstate", "dir=\(directory)/tpm",
                          "--server", "type=unixio,path=\(socket)", "--ctrl", "type=unixio,path=\(socket).ctrl",
                          "--flags", "not-need-init,startup-clear"])
        for _ in 0..<500 where access(socket, F_OK) != 0 { usleep(10_000) }
        precondition(access(socket, F_OK) == 0, "swtpm did not start")
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        var rm = status
        waitpid(Self.spawn(["/bin/rm", "-rf", directory]), &rm, 0)
    }

    private static func spawn(_ argv: [String]) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        precondition(rc == 0, "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))")
        return pid
    }
}
