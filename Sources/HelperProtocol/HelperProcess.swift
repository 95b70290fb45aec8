#if canImport(Glibc)
import Glibc
#endif
import CSpawn

// glibc ≥ 2.34 has it, but only under _GNU_SOURCE, which Swift's Glibc module does not set.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnActionsCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowFD: Int32) -> Int32

public enum HelperLaunchError: Error, Equatable, CustomStringConvertible {
    case notAbsolute(String)
    case missing(String)
    case unsafe(String, reason: String)
    case spawnFailed(String, errno: Int32)

    public var description: String {
        switch self {
        case .notAbsolute(let p): return "helper path \"\(p)\" is not absolute; set helper = /usr/libexec/pam_passkey/pam_passkey_helper"
        case .missing(let p): return "helper \(p) does not exist or is not executable; reinstall pam_passkey or fix `helper =` in the policy file"
        case .unsafe(let p, let reason): return "helper \(p) refused: \(reason)"
        case .spawnFailed(let p, let e): return "could not start helper \(p): \(String(cString: strerror(e)))"
        }
    }
}

/// A running helper process, connected by a socketpair on its stdin and stdout.
///
/// Rules for code inside someone else's process: posix_spawn (no fork of a threaded host),
/// a fixed absolute path, a clean environment, every other descriptor closed, default signal
/// dispositions and an empty mask in the child; we wait for *this* pid only (sshd replaces
/// SIGCHLD handlers, some hosts ignore SIGCHLD altogether) and kill it when it overstays.
public final class HelperProcess {
    public let pid: pid_t
    public let channel: FrameChannel
    private var finished = false

    /// Verifies the program is safe to run as root, then starts it. `asRoot`: the caller's
    /// effective uid is 0 but its real uid is not (su, sudo): the helper is started with real
    /// uid 0, which tells it the request is root's (see Sources/CSpawn).
    public static func launch(path: String, arguments: [String], asRoot: Bool = false) throws(HelperLaunchError) -> HelperProcess {
        try checkProgram(path)
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .spawnFailed(path, errno: errno)
        }
        let (ours, theirs) = (fds[0], fds[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, theirs, 0)
        posix_spawn_file_actions_adddup2(&actions, theirs, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        _ = spawnActionsCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = [path] + arguments
        let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        var rc: Int32
        if asRoot && geteuid() == 0 && getuid() != 0 {
            pid = pam_passkey_spawn_as_root(path, &cArgs, &cEnv, theirs)
            rc = pid > 0 ? 0 : errno
        } else {
            rc = posix_spawn(&pid, path, &actions, &attributes, &cArgs, &cEnv)
        }
        close(theirs)
        guard rc == 0 else {
            close(ours)
            throw .spawnFailed(path, errno: rc)
        }
        return HelperProcess(pid: pid, channel: FrameChannel(socket: ours))
    }

    private init(pid: pid_t, channel: FrameChannel) {
        self.pid = pid
        self.channel = channel
    }

    /// The helper runs as root with whatever we pass it: refuse a program (or a directory on
    /// its path) that someone other than root could have replaced (`HelperTrust`).
    static func checkProgram(_ path: String) throws(HelperLaunchError) {
        if let problem = HelperTrust.problem(path) { throw problem }
    }

    /// Closes the channel, gives the helper `graceMillis` to exit, then kills it. Always
    /// reaps exactly this pid (or accepts that the host reaps children itself). Returns the
    /// wait status when this call reaped the helper.
    ///
    /// The wait is for this pid's exit itself, not a sleep: a pidfd (Linux ≥ 5.3) becomes
    /// readable when the process exits, so poll() returns the moment the helper is gone, or
    /// at the deadline. No thread, no SIGCHLD handler: the host owns those, and sshd's reaps
    /// with waitpid(-1), which makes our waitpid say ECHILD (accepted: the helper is gone).
    /// The pidfd is opened before the first waitpid, so while waitpid says the pid is our
    /// unreaped child the pidfd is that child, and the kill at the deadline goes through it:
    /// never to a process that took the pid after someone else reaped the helper.
    @discardableResult
    public func finish(graceMillis: Int = 500) -> Int32? {
        guard !finished else { return nil }
        finished = true
        close(channel.readFD)
        let pidfd = pam_passkey_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        let deadline = monotonicMillis() + Int64(graceMillis)
        // Only without pidfd_open (kernels before 5.3): short pauses, doubling up to 2 ms.
        var pauseMicros: Int64 = 50
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 && errno == ECHILD { return nil }
            if r < 0 && errno != EINTR { break }
            let left = deadline - monotonicMillis()
            if left <= 0 { break }
            if pidfd >= 0 {
                var exited = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                // EINTR or a timeout alike: the loop looks again and recomputes what is left.
                _ = poll(&exited, 1, Int32(clamping: left))
            } else {
                usleep(UInt32(min(pauseMicros, left * 1000)))
                pauseMicros = min(pauseMicros * 2, 2000)
            }
        }
        if pidfd >= 0 { _ = pam_passkey_pidfd_kill(pidfd, SIGKILL) } else { Glibc.kill(pid, SIGKILL) }
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { return status }
            if r < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Kills the helper at once (timeout, protocol violation).
    @discardableResult
    public func kill() -> Int32? {
        guard !finished else { return nil }
        Glibc.kill(pid, SIGKILL)
        return finish(graceMillis: 0)
    }

    deinit { finish(graceMillis: 0) }
}
