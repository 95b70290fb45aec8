#if canImport(Glibc)
import Glibc
#endif
import Crypto
import RelyingParty
import Wiring

/// Where `enroll` gets the PIN: the controlling terminal with echo off, or standard input
/// (`--pin-stdin`: the PIN, then its confirmation, one per line) for provisioning scripts.
/// The ceremony asks through `UserInterface`, exactly as the module's conversation does.
final class PINEntry: UserInterface {
    enum Source {
        case terminal(Terminal)
        case standardInput
    }

    let source: Source
    /// The last thing the ceremony objected to ("The PINs did not match."). Standard input
    /// gets no second chance: the script's PIN was refused, and the command fails saying why.
    private(set) var refusal: String?
    /// The prompt that got no answer (end of input, or an empty line).
    private(set) var unanswered: String?

    init(source: Source) { self.source = source }

    func secret(_ prompt: String) -> SecretBytes? {
        let answer: SecretBytes?
        switch source {
        case .terminal(let t):
            answer = t.readSecret(prompt: prompt)
        case .standardInput:
            answer = refusal == nil ? readLine(fd: 0) : nil
        }
        if answer?.isEmpty ?? true { unanswered = prompt }
        return answer
    }

    /// Enrollment asks no yes/no questions.
    func ask(_ prompt: String) -> String? { nil }

    func info(_ text: String) {
        if case .terminal(let t) = source { t.write(text + "\n") }
    }

    func error(_ text: String) {
        switch source {
        case .terminal(let t): t.write(text + "\n")
        case .standardInput: refusal = text
        }
    }
}

/// The longest answer kept; PINs are at most 63 bytes, so a longer line is refused by the
/// helper as too long rather than cut to something that might pass.
private let maxAnswerBytes = 255

/// One line from `fd` into wiped memory, without the newline (and a trailing CR). Read a
/// byte at a time so nothing after the line is consumed. nil at end of input before any byte.
func readLine(fd: Int32) -> SecretBytes? {
    let buffer = SecretBytes(count: maxAnswerBytes)
    var length = 0
    var sawAnything = false
    var byte: UInt8 = 0
    while true {
        let n = read(fd, &byte, 1)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { if !sawAnything { byte = 0; return nil } else { break } }
        sawAnything = true
        if byte == UInt8(ascii: "\n") { break }
        if length < maxAnswerBytes {
            buffer.withUnsafeMutableBytes { $0[length] = byte }
            length += 1
        }
    }
    byte = 0
    if length > 0, buffer.withUnsafeBytes({ $0[length - 1] }) == UInt8(ascii: "\r") { length -= 1 }
    return buffer.withUnsafeBytes { SecretBytes(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
}

/// The controlling terminal, opened directly so the PIN is read from the person even when
/// standard input and output are redirected.
final class Terminal {
    let fd: Int32

    /// nil when the process has no controlling terminal (cron, a pipeline under ssh without -t).
    static func open() -> Terminal? {
        let fd = Glibc.open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        return fd < 0 ? nil : Terminal(fd: fd)
    }

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// Shows `prompt`, reads one line with echo off. The terminal's settings are restored
    /// when the line is read, and also when a signal ends the program half-way (see
    /// `EchoGuard`): nobody should be left typing blind into their shell.
    func readSecret(prompt: String) -> SecretBytes? {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHOE | ECHOK)
        // The Enter that ends the PIN still moves to the next line.
        quiet.c_lflag |= tcflag_t(ECHONL)
        EchoGuard.arm(fd: fd, restoring: saved)
        defer { EchoGuard.disarm() }
        // Echo goes off (and anything typed ahead, which was echoed, is dropped) before the
        // prompt appears: whatever is typed after it is never shown.
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else { return nil }
        write(prompt)
        return readLine(fd: fd)
    }
}

/// Restores the terminal when a signal arrives while echo is off, then lets the signal do
/// what it would have done. Only async-signal-safe calls in the handler: tcsetattr, write,
/// signal, raise.
enum EchoGuard {
    nonisolated(unsafe) private static var fd: Int32 = -1
    nonisolated(unsafe) private static var settings = termios()
    nonisolated(unsafe) private static var previous: [(Int32, sighandler_t?)] = []
    /// The signals that end a program by default and can be caught; SIGTSTP is ignored while
    /// echo is off (a stopped program would leave the shell without echo).
    private static let fatal: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2]

    static func arm(fd: Int32, restoring saved: termios) {
        settings = saved
        self.fd = fd
        previous = fatal.map { ($0, signal($0, restoreAndReraise)) } + [(SIGTSTP, signal(SIGTSTP, SIG_IGN))]
    }

    static func disarm() {
        if fd >= 0 { tcsetattr(fd, TCSANOW, &settings) }
        fd = -1
        for (sig, handler) in previous { signal(sig, handler) }
        previous = []
    }

    private static let restoreAndReraise: @convention(c) (Int32) -> Void = { sig in
        if EchoGuard.fd >= 0 {
            tcsetattr(EchoGuard.fd, TCSANOW, &EchoGuard.settings)
            var newline: UInt8 = 0x0A
            _ = Glibc.write(EchoGuard.fd, &newline, 1)
        }
        signal(sig, SIG_DFL)
        raise(sig)
    }
}
