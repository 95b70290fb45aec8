// Starting the helper from a setuid-root PAM application (su, sudo, passwd, polkit's agent
// helper): real uid = the person who ran it, effective uid = 0. The helper trusts a request
// as root's only when its *real* uid is 0 — anyone can start a setuid program, only root can
// make its real uid 0 — so the child takes uid and gid 0 fully before it execs. posix_spawn
// cannot change credentials, hence fork; between fork and execve the child calls only
// async-signal-safe functions, so this is safe in a threaded host too.
#ifndef PAM_PASSKEY_CSPAWN_H
#define PAM_PASSKEY_CSPAWN_H

#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

/// Forks; the child becomes root in its real, effective and saved uid and gid with no
/// supplementary groups, puts `channel` on its stdin and stdout and /dev/null on stderr,
/// closes every other descriptor, resets the signals that hosts change, and execs `path`.
/// Returns the child's pid, or -1 with errno set. The child exits 127 if any step fails.
static inline pid_t pam_passkey_spawn_as_root(const char *path, char *const argv[], char *const envp[], int channel) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    sigset_t none;
    sigemptyset(&none);
    const int reset[] = { SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2, SIGQUIT };
    for (unsigned i = 0; i < sizeof reset / sizeof reset[0]; i++) signal(reset[i], SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, 0);
    if (setgroups(0, 0) != 0 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) _exit(127);
    if (getuid() != 0 || geteuid() != 0) _exit(127);
    if (dup2(channel, 0) < 0 || dup2(channel, 1) < 0) _exit(127);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 2) < 0) _exit(127);
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) close((int)fd);
    }
    execve(path, argv, envp);
    _exit(127);
}

/// A descriptor that refers to process `pid` for as long as it is open, whoever reaps it:
/// poll() says when the process has exited, without a SIGCHLD handler (the host owns
/// those). -1 with errno ENOSYS on kernels before 5.3.
static inline int pam_passkey_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0U);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/// Sends `sig` to the process `pidfd` refers to: never to a process that reused its pid.
static inline int pam_passkey_pidfd_kill(int pidfd, int sig) {
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, (void *)0, 0U);
#else
    (void)pidfd; (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

/// The helper's log line: `text` passed as the argument of a "%s" format, never as the
/// format. syslog is variadic, which Swift cannot call; `withVaList` would box the argument
/// in a CVarArg existential, whose conformance lookup cost a fresh helper ~290 k instructions
/// before its first reply (callgrind).
static inline void pam_passkey_helper_syslog(int priority, const char *text) {
    openlog("pam_passkey_helper", LOG_PID, LOG_AUTHPRIV);
    syslog(priority, "%s", text);
}

#endif
