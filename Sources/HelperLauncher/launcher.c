// pam_passkey_helper — the setuid-root launcher of the host authenticator.
//
// Installed at /usr/libexec/pam_passkey/pam_passkey_helper, root 4755. It is what the module
// (and passkeyctl) start; it prepares a clean process and replaces itself with the host
// authenticator, the Swift program installed (root 0755, not setuid) at a path fixed when
// this file is compiled:
//
//   cc ... -DPAM_PASSKEY_AUTHENTICATOR='"/usr/libexec/pam_passkey/pam_passkey_authenticator"'
//
// (Sources/HelperLauncher/build.sh has the flags.) Why a launcher: a program run setuid
// inherits its caller's environment, and the Swift runtime reads it (SWIFT_DEBUG_HELP,
// SWIFT_BACKTRACE, ...) before any Swift code can clear it. This C program clears it before
// doing anything else, and the authenticator starts with a fixed environment — the model of
// unix_chkpwd. Statically linked, so no dynamic loader looks at the caller's environment
// either.
//
// In order, before anything else is looked at:
//   1. the environment is dropped (never read);
//   2. descriptors 0, 1 and 2 are open (on /dev/null when the caller closed one); every other
//      descriptor is closed;
//   3. started setuid by a user (real uid not 0, effective uid 0): no supplementary groups,
//      and real, effective and saved gid 0, so what the authenticator writes is root:root.
//      The real uid stays the caller's: the authenticator serves that account only;
//   4. the authenticator must be a regular file owned by root, not writable by group or
//      others, and not setuid or setgid; it is opened once, checked through that descriptor
//      and executed from it (nothing can be swapped in between), with the caller's arguments
//      and the environment PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.
// Anything that fails: one line on stderr and exit status 127. Nothing else is ever run.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PAM_PASSKEY_AUTHENTICATOR
#define PAM_PASSKEY_AUTHENTICATOR "/usr/libexec/pam_passkey/pam_passkey_authenticator"
#endif

#define LAUNCHER_FAILED 127

// passkeyctl status reads the installed launcher for this line to find (and check) the
// program it starts. Kept in the binary even though nothing here refers to it.
__attribute__((used)) static const char target_note[] = "pam_passkey launcher target=" PAM_PASSKEY_AUTHENTICATOR;

static char *const clean_environment[] = {
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL=C",
    NULL,
};

static void append(char *line, size_t *used, size_t size, const char *text) {
    size_t n = strlen(text);
    if (n > size - 1 - *used) n = size - 1 - *used;
    memcpy(line + *used, text, n);
    *used += n;
}

// One line on stderr, then exit 127. `err` 0: no system error to add.
__attribute__((noreturn)) static void fail(const char *what, int err) {
    char line[512];
    size_t used = 0;
    append(line, &used, sizeof line, "pam_passkey_helper: ");
    append(line, &used, sizeof line, what);
    if (err != 0) {
        append(line, &used, sizeof line, ": ");
        append(line, &used, sizeof line, strerror(err));
    }
    line[used++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, used);
    (void)ignored;
    _exit(LAUNCHER_FAILED);
}

// Descriptors 0 to 2 open: with one closed, the authenticator's first open file would take
// its number, and protocol replies meant for stdout would land in that file. (glibc opens
// /dev/full and /dev/null onto closed ones itself when the start is setuid; this also covers
// a caller that is root.) A descriptor the caller marked close-on-exec was closed by the
// kernel when it started this program, so it arrives here closed.
static void standard_descriptors(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) continue;
        if (errno != EBADF) fail("fcntl on a standard descriptor", errno);
        // The lowest free number is `fd`: the ones below it are open by now.
        int null = open("/dev/null", O_RDWR | O_NOCTTY);
        if (null < 0) fail("cannot open /dev/null", errno);
        if (null != fd) fail("/dev/null did not open as the missing standard descriptor", 0);
    }
}

static void close_other_descriptors(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
    if (errno != ENOSYS) fail("close_range", errno);
#endif
    // Kernels before 5.9: every descriptor /proc lists. No /proc means no way to be sure.
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) fail("cannot list /proc/self/fd to close inherited descriptors", errno);
    int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || end == entry->d_name) continue;
        if (fd >= 3 && fd != own) close((int)fd);
    }
    closedir(dir);
}

// Started setuid by a user: the groups of root, and none of the caller's.
static void root_groups(void) {
    if (getuid() == 0 || geteuid() != 0) return;
    if (setgroups(0, NULL) != 0) fail("setgroups", errno);
    if (setresgid(0, 0, 0) != 0) fail("setresgid", errno);
}

// The authenticator, opened once and checked through the descriptor that is executed.
static int checked_authenticator(void) {
    const char *path = PAM_PASSKEY_AUTHENTICATOR;
    if (path[0] != '/') fail("the authenticator path compiled in is not absolute: " PAM_PASSKEY_AUTHENTICATOR, 0);
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail("cannot open " PAM_PASSKEY_AUTHENTICATOR, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) fail("cannot stat " PAM_PASSKEY_AUTHENTICATOR, errno);
    if (!S_ISREG(st.st_mode)) fail(PAM_PASSKEY_AUTHENTICATOR " is not a regular file", 0);
    if (st.st_uid != 0) fail(PAM_PASSKEY_AUTHENTICATOR " is not owned by root", 0);
    if (st.st_mode & (S_IWGRP | S_IWOTH)) fail(PAM_PASSKEY_AUTHENTICATOR " is writable by group or others", 0);
    if (st.st_mode & (S_ISUID | S_ISGID)) fail(PAM_PASSKEY_AUTHENTICATOR " must not be setuid or setgid (mode 0755)", 0);
    return fd;
}

int main(int argc, char **argv) {
    // 1. Before anything else. Nothing here ever calls getenv.
    if (clearenv() != 0) fail("clearenv", 0);

    standard_descriptors();
    close_other_descriptors();
    root_groups();
    int program = checked_authenticator();

    // The caller's arguments, behind the authenticator's own name. argc may be 0 (an execve
    // with an empty argv): then argv[1] would be past its end, so nothing is copied.
    size_t count = argc > 1 ? (size_t)argc : 1;
    char **args = calloc(count + 1, sizeof *args);
    if (args == NULL) fail("out of memory", ENOMEM);
    args[0] = (char *)PAM_PASSKEY_AUTHENTICATOR;
    for (size_t i = 1; i < count; i++) args[i] = argv[i];
    args[count] = NULL;

    fexecve(program, args, clean_environment);
    fail("cannot execute " PAM_PASSKEY_AUTHENTICATOR, errno);
}
