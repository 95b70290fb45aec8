#if canImport(Glibc)
import Glibc
#endif
import Crypto

public enum HelperClientError: Error, Equatable, CustomStringConvertible {
    case launch(HelperLaunchError)
    case channel(ChannelError)
    case malformed(WireError)
    case tooManyQuestions

    public var description: String {
        switch self {
        case .launch(let e): return e.description
        case .channel(let e): return "helper: \(e)"
        case .malformed(let e): return "helper: \(e)"
        case .tooManyQuestions: return "helper asked more questions than any operation needs"
        }
    }
}

/// How to start the helper. `perform` is one exchange in a helper of its own; a
/// `HelperConnection` keeps one helper for several (the module probes, then signs in, with
/// one process).
public struct HelperClient: Sendable {
    public var program: String
    public var arguments: [String]
    /// Bounds every wait for the helper; time the user spends answering is not counted.
    public var timeoutSeconds: Int
    /// More than any ceremony needs (new PIN tries, confirmations, wrong-PIN retries).
    public var maxQuestions = 16
    /// Start the helper with real uid 0 when this process has effective uid 0 only (a
    /// setuid-root application: su, sudo). The helper then serves the request as root's.
    public var asRoot: Bool

    public init(program: String, arguments: [String] = [], timeoutSeconds: Int, asRoot: Bool = false) {
        self.program = program
        self.arguments = arguments
        self.timeoutSeconds = timeoutSeconds
        self.asRoot = asRoot
    }

    /// One request in a helper started for it. `answer` returns the PIN, or nil for
    /// "cancel" (empty answer, conversation failed).
    public func perform(_ request: HelperRequest, answer: (PINQuestion) -> SecretBytes?,
                        notice: (HelperNotice) -> Void = { _ in }) throws(HelperClientError) -> HelperReply {
        let connection = HelperConnection(self)
        defer { connection.close() }
        return try connection.perform(request, answer: answer, notice: notice)
    }
}

extension HelperClient {
    /// The helper as this process may start it, by who the process runs as:
    /// - root (login, sshd, gdm, passkeyctl): told the policy file with `--conf`;
    /// - effective uid 0 only (su, sudo, passwd, polkit's agent helper): the same, and started
    ///   with real uid 0, the only proof a setuid helper can trust that a request is root's;
    /// - not root (a screen locker): the setuid helper reads the system policy itself and
    ///   refuses `--conf`, so a `policyPath` other than `systemPolicyPath` is nil: the helper
    ///   would follow another policy (state_dir, PIN rules) than the module.
    public static func forThisProcess(program: String, policyPath: String, systemPolicyPath: String,
                                      timeoutSeconds: Int) -> HelperClient? {
        if geteuid() == 0 {
            return HelperClient(program: program, arguments: ["--conf", policyPath], timeoutSeconds: timeoutSeconds,
                                asRoot: getuid() != 0)
        }
        guard policyPath == systemPolicyPath else { return nil }
        return HelperClient(program: program, timeoutSeconds: timeoutSeconds)
    }
}

/// One helper process serving a caller's requests in turn: started at the first request,
/// kept for the next ones, closed by `close()` (the helper exits when its socket closes).
/// Synchronous, no threads. Any failure kills the helper; the next request starts a new one.
public final class HelperConnection {
    public let client: HelperClient
    private var process: HelperProcess?

    public init(_ client: HelperClient) { self.client = client }

    /// The running helper's pid, if one is running.
    public var pid: pid_t? { process?.pid }

    public func perform(_ request: HelperRequest, answer: (PINQuestion) -> SecretBytes?,
                        notice: (HelperNotice) -> Void = { _ in }) throws(HelperClientError) -> HelperReply {
        let helper: HelperProcess
        if let running = process {
            helper = running
        } else {
            do { helper = try HelperProcess.launch(path: client.program, arguments: client.arguments, asRoot: client.asRoot) } catch { throw .launch(error) }
            process = helper
        }
        do {
            try helper.channel.send(request.encoded())
            var questions = 0
            // A security key waiting for a touch adds its wait to the next message's deadline.
            var extra = 0
            while true {
                guard let frame = try helper.channel.receive(timeoutSeconds: client.timeoutSeconds + extra) else {
                    throw HelperClientError.channel(.closed)
                }
                extra = 0
                switch try decode(frame) {
                case .reply(let reply):
                    return reply
                case .notice(let n):
                    questions += 1
                    guard questions <= client.maxQuestions else { throw HelperClientError.tooManyQuestions }
                    if case .touch(let seconds) = n { extra = seconds }
                    notice(n)
                case .question(let q):
                    questions += 1
                    guard questions <= client.maxQuestions else { throw HelperClientError.tooManyQuestions }
                    let pin = answer(q)
                    try helper.channel.send(secret: PINAnswer.encode(pin))
                }
            }
        } catch let e as HelperClientError {
            abandon()
            throw e
        } catch let e as ChannelError {
            abandon()
            throw .channel(e)
        } catch {
            abandon()
            throw .channel(.io("unexpected error \(error)", errno: 0))
        }
    }

    /// Lets the helper exit (it sees its socket close) and reaps it.
    public func close() {
        process?.finish()
        process = nil
    }

    private func abandon() {
        process?.kill()
        process = nil
    }

    private func decode(_ frame: [UInt8]) throws(HelperClientError) -> HelperMessage {
        do { return try HelperMessage(decoding: frame) } catch { throw .malformed(error) }
    }

    deinit { close() }
}
