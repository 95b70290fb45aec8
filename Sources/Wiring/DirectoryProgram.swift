#if canImport(Glibc)
import Glibc
#endif
import HelperProtocol
import Identifiers
import Registry

/// pam_passkey_directory, as the module and passkeyctl start it: the only way they reach the
/// directory (libldap never enters the login process). Started like the helper — fixed
/// absolute path checked as root's, clean environment, every other descriptor closed — and
/// given `timeoutSeconds` from the start: at the deadline it is killed, so a hung directory
/// makes no login wait longer than that. What it prints on its stdout (one line: why it
/// failed) is the reason returned.
public struct DirectoryProgram: DirectorySync {
    public let program: String
    public let policyPath: String
    public let timeoutSeconds: Int

    public init(program: String, policyPath: String, timeoutSeconds: Int) {
        self.program = program
        self.policyPath = policyPath
        self.timeoutSeconds = timeoutSeconds
    }

    public func refresh(_ user: UserName) -> String? { run(["refresh", user.rawValue]).failure }
    public func push() -> String? { run(["push"]).failure }

    /// What a run said: whether it exited 0, and its last line.
    public struct Outcome {
        public let succeeded: Bool
        public let message: String
        var failure: String? { succeeded ? nil : message }
    }

    /// Runs one command within `timeoutSeconds` (default: registry_timeout).
    public func run(_ command: [String], timeoutSeconds: Int? = nil) -> Outcome {
        let limitMillis = Int64(timeoutSeconds ?? self.timeoutSeconds) * 1000
        let start = monotonicMilliseconds()
        let process: HelperProcess
        do {
            process = try HelperProcess.launch(path: program, arguments: ["--conf", policyPath] + command,
                                               asRoot: geteuid() == 0 && getuid() != 0)
        } catch {
            return Outcome(succeeded: false, message: "directory program: \(error)")
        }
        // Read what it says until it exits (end of file) or the deadline.
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        let fd = process.channel.readFD
        var timedOut = false
        while output.count < 4096 {
            let left = limitMillis - (monotonicMilliseconds() - start)
            if left <= 0 { timedOut = true; break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(clamping: left))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { timedOut = r == 0; break }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[..<n]
        }
        if timedOut {
            process.kill()
            return Outcome(succeeded: false,
                           message: "the directory did not answer within \(limitMillis / 1000) s (registry_timeout); \(program) was stopped")
        }
        let left = max(0, limitMillis - (monotonicMilliseconds() - start))
        let status = process.finish(graceMillis: Int(left))
        let said = String(decoding: output, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        if status == 0 { return Outcome(succeeded: true, message: said) }
        return Outcome(succeeded: false, message: said.isEmpty ? "\(program) failed (wait status \(status.map(String.init) ?? "unknown"))" : said)
    }
}

func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
