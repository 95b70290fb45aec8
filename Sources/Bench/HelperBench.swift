import Identifiers
#if canImport(Glibc)
import Glibc
#endif
import Crypto
import HelperProtocol
import Policy
import WebAuthn

@_silgen_name("crypt")
private func libxcrypt(_ phrase: UnsafePointer<CChar>, _ setting: UnsafePointer<CChar>) -> UnsafeMutablePointer<CChar>?
@_silgen_name("crypt_gensalt")
private func libxcryptGensalt(_ prefix: UnsafePointer<CChar>?, _ count: UInt, _ rbytes: UnsafePointer<CChar>?, _ n: Int32) -> UnsafeMutablePointer<CChar>?

/// The helper as the module uses it: a fresh process per request, the default KDF cost.
/// Needs root (the helper refuses state it does not own) and the helper built beside this
/// program.
func helperBenchmarks() throws -> [Benchmark] {
    let products = String(cString: realpath(CommandLine.arguments[0], nil)).split(separator: "/").dropLast().joined(separator: "/")
    let helperPath = "/" + products + "/pam_passkey_helper"
    var template = Array("/tmp/passkey-bench-helper.XXXXXX".utf8CString)
    let root = String(cString: mkdtemp(&template)!)
    chmod(root, 0o755)
    mkdir(root + "/state", 0o700)
    let policyPath = root + "/pam_passkey.conf"
    let rpID = "bench.example"
    let text = "rp_id = \(rpID)\nstate_dir = \(root)/state\nregistry_dir = \(root)\n"
    let fd = open(policyPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    let client = HelperClient(program: helperPath, arguments: ["--conf", policyPath], timeoutSeconds: 30)
    let pin = "482913"
    let answer: (PINQuestion) -> SecretBytes? = { _ in SecretBytes(Array(pin.utf8)) }

    let clientDataHash = SHA256.hash([1, 2, 3])
    guard case .created(let created) = try client.perform(.makeCredential(MakeCredentialRequest(
        user: try UserName(validating: "bench"), rpID: rpID, clientDataHash: clientDataHash, userHandle: [1])), answer: answer) else {
        throw BenchError("could not enrol through \(helperPath) (run as root after a build)")
    }
    let defaultCost = Scrypt.Cost(log2N: PolicyKey.pinKDFCost.defaultValue)
    let yescryptSetting = String(cString: libxcryptGensalt("$y$", 0, nil, 0)!)

    return [
        // What a module's call costs: the helper started, its reply, and its exit waited for.
        Benchmark(group: "helper", name: "helper spawn → first message (status)", iterations: 200) {
            guard case .status = try client.perform(.status, answer: { _ in nil }) else { throw BenchError("status failed") }
        },
        // The issue-17 goal's measure: from the spawn to the reply in hand; the helper's exit
        // (its own teardown, which the caller then waits for) outside the timing.
        .timingPart(group: "helper", name: "helper spawn → reply in hand (status), exit not timed", iterations: 200) {
            let connection = HelperConnection(client)
            defer { connection.close() }
            let t0 = monotonicMicros()
            guard case .status = try connection.perform(.status, answer: { _ in nil }) else { throw BenchError("status failed") }
            return monotonicMicros() - t0
        },
        Benchmark(group: "helper", name: "getAssertion via helper, default KDF", iterations: 30) {
            guard case .assertion = try client.perform(.getAssertion(GetAssertionRequest(
                user: try UserName(validating: "bench"), rpID: rpID, clientDataHash: clientDataHash, allowCredentials: [created.credentialID])), answer: answer)
            else { throw BenchError("getAssertion failed") }
        },
        Benchmark(group: "helper", name: "scrypt alone, default cost (log2N=\(defaultCost.log2N))", iterations: 30) {
            _ = try Scrypt.deriveKey(password: SecretBytes(Array(pin.utf8)), salt: [UInt8](repeating: 1, count: 16),
                                     cost: defaultCost, byteCount: 32)
        },
        Benchmark(group: "helper", name: "yescrypt password hash (\(yescryptSetting.prefix(7))…, libxcrypt)", iterations: 30) {
            guard libxcrypt(pin, yescryptSetting) != nil else { throw BenchError("crypt failed") }
        },
    ]
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
