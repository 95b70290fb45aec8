#if canImport(Glibc)
import Glibc
#endif

/// "Is there a TPM, and can it serve passkeys now?" — asked by `health()` and by
/// `authenticator = auto` on every helper run, so it must come back quickly whatever the TPM
/// does. libtss2 cannot promise that: a TCTI may block while it connects (the swtpm TCTI
/// waits for its control channel), and synchronous ESAPI calls never time out. So the question
/// is asked in a child process that is killed when the time is up. The helper is
/// single-threaded, which makes forking it safe.
enum TPMPresenceCheck {
    static func run(tcti: String, timeoutMilliseconds: Int32) -> TPMAuthenticator.Presence {
        // Most machines without a TPM have no device node: no need for a child to find that out.
        if tcti.hasPrefix("device:") {
            let path = String(tcti.dropFirst("device:".count))
            var st = stat()
            if !path.isEmpty && stat(path, &st) != 0 { return .absent("no TPM device at \(path)") }
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return ask(tcti) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid = fork()
        if pid == 0 {
            close(fds[0])
            let answer = encode(ask(tcti))
            answer.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fds[1], raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
            _exit(0)
        }
        close(fds[1])
        guard pid > 0 else {
            close(fds[0])
            return ask(tcti)
        }
        defer { close(fds[0]) }
        let reply = readAll(fds[0], timeoutMilliseconds: timeoutMilliseconds)
        if reply == nil { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard let reply else { return .absent(TPMError.timeout(tcti: tcti, milliseconds: timeoutMilliseconds).description) }
        return decode(reply) ?? .absent("the TPM check at TCTI \"\(tcti)\" ended without an answer (wait status \(status))")
    }

    /// The question itself, in this process.
    static func ask(_ tcti: String) -> TPMAuthenticator.Presence {
        do {
            let state = try TPMConnection.open(tcti: tcti) { (c: TPMConnection) throws(TPMError) in try c.lockoutState() }
            if state.inLockout { return .answering(problem: state.lockoutMessage) }
            if state.ownerAuthSet { return .answering(problem: TPMLockoutState.ownerAuthMessage) }
            return .answering(problem: nil)
        } catch {
            if case .command(_, let rc) = error, rc.tpmCode == TSS2.rcInitialize {
                return .answering(problem: "the TPM at TCTI \"\(tcti)\" has not been started (TPM2_Startup)")
            }
            if case .command(_, let rc) = error, rc.tpmCode != nil {
                return .answering(problem: "the TPM at TCTI \"\(tcti)\" answers with an error: \(error)")
            }
            return .absent("\(error)")
        }
    }

    /// Everything the child wrote until it closed the pipe; nil when the time ran out first.
    private static func readAll(_ fd: Int32, timeoutMilliseconds: Int32) -> [UInt8]? {
        let deadline = now() + Int64(timeoutMilliseconds)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - now()
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(clamping: left))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return ready == 0 ? nil : bytes }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes }
            bytes += buffer[..<n]
            if bytes.count > 65536 { return bytes }
        }
    }

    private static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    // One tag byte, then UTF-8 text: "A" answering, "P" answering with a problem, "N" absent.
    private static func encode(_ p: TPMAuthenticator.Presence) -> [UInt8] {
        switch p {
        case .answering(nil): return Array("A".utf8)
        case .answering(let problem?): return Array("P\(problem)".utf8)
        case .absent(let why): return Array("N\(why)".utf8)
        }
    }

    private static func decode(_ bytes: [UInt8]) -> TPMAuthenticator.Presence? {
        guard let tag = bytes.first else { return nil }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch tag {
        case UInt8(ascii: "A"): return .answering(problem: nil)
        case UInt8(ascii: "P"): return .answering(problem: text)
        case UInt8(ascii: "N"): return .absent(text)
        default: return nil
        }
    }
}
