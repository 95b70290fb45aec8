/*
 * module_entry: the real pam_sm_authenticate / pam_sm_setcred of the built pam_passkey.so,
 * loaded by real libpam from a service file, over a conversation the fuzz input scripts,
 * with the build's real pam_passkey_helper on the other end of the socketpair.
 *
 * The stack (one service file per service name below) is the shipped three lines, with
 * pam_wrapper's pam_matrix (a flat-file password module) in place of pam_unix:
 *
 *   auth  [success=done default=ignore]  pam_passkey.so conf=POLICY stack=FILE
 *   auth  [success=ok default=die]       pam_matrix.so passdb=FILE
 *   auth  optional                       pam_passkey.so conf=POLICY stack=FILE append
 *
 * At start-up the user "nobody" enrols once through the offer path (password, "y", PIN,
 * PIN), and the registry and host state are kept as a snapshot; every input starts from
 * that snapshot, so the PIN path is there to exercise and runs are reproducible.
 *
 * What is checked (abort() when it does not hold):
 *   - no input crashes or hangs the process (libFuzzer: signals, -timeout);
 *   - pam_authenticate never returns PAM_SUCCESS unless, during that call, the script
 *     answered some prompt with the enrolled PIN, a PIN chosen earlier in this input, or
 *     the password; the enrolled PIN is compared, not assumed absent, so an input that
 *     spells it by chance is not a false alarm;
 *   - after pam_end no helper is left running or unreaped (the module reaps it);
 *   - neither the enrolled PIN nor the password appears in a message shown to the user or
 *     in a syslog line (the module's and the helper's: in a private mount namespace
 *     /dev is a fresh tmpfs whose /dev/log this harness reads, so no syslog line reaches
 *     anyone else's capture either), unless the input typed it where nothing is secret
 *     (as the user name);
 *   - the module does not keep prompting after the conversation has failed.
 * The module, the helper and libpam are not instrumented (the module and helper are the
 * release build): coverage guidance comes from this harness's own branches and from the
 * comparisons libFuzzer sees through its strcmp/memcmp interceptors; AddressSanitizer
 * checks the harness's memory, and every malloc/free in the process (it replaces them).
 *
 * Input: byte 0 session flags, byte 1 four call codes, byte 2 how many calls, a setcred
 * flag and the credentials, then the answer script: see run_one() and next_answer().
 *
 * Environment: PAM_PASSKEY_BUILD (default: the build this target was compiled against),
 * MODULE_ENTRY_VERBOSE=1 prints every message and answer (to replay a crash).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FUZZ_DEFAULT_BUILD_DIR
#define FUZZ_DEFAULT_BUILD_DIR ".build/release"
#endif
#define PAM_MATRIX "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so"

/* Characters a PIN may hold that the script's literals can also produce: hence the check
 * by comparison. Valid under PINRules (printable, >= 6, no repeat, no sequence). */
static const char ENROLLED_PIN[] = "Fz9#qK2!wL7x";
static const char PASSWORD[] = "matrix-Pass-4Q!7";
static const char USER[] = "nobody";

static const char *const SERVICES[] = { "fuzz-login", "sudo", "cron", "fuzz-login" };

/* ---------------------------------------------------------------------------------------- */
/* Small helpers */

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("module_entry: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) fail("cannot write %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) fail("short write to %s", path);
    fchmod(fd, mode);
    close(fd);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path) {
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        fail("cannot remove %s: %s", path, strerror(errno));
}

/* Copies a tree of directories and regular files, keeping modes (we are root: owners too). */
static void copy_tree(const char *from, const char *to) {
    struct stat st;
    if (lstat(from, &st) != 0) fail("cannot stat %s: %s", from, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(to, st.st_mode & 07777) != 0) fail("cannot mkdir %s: %s", to, strerror(errno));
        chmod(to, st.st_mode & 07777);
        DIR *d = opendir(from);
        if (!d) fail("cannot open %s", from);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char a[4096], b[4096];
            snprintf(a, sizeof a, "%s/%s", from, e->d_name);
            snprintf(b, sizeof b, "%s/%s", to, e->d_name);
            copy_tree(a, b);
        }
        closedir(d);
    } else if (S_ISREG(st.st_mode)) {
        int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (in < 0 || out < 0) fail("cannot copy %s to %s: %s", from, to, strerror(errno));
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n) fail("short write to %s", to);
        fchmod(out, st.st_mode & 07777);
        close(in);
        close(out);
    } else {
        fail("unexpected file type in the state snapshot: %s", from);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* A private /dev with our own /dev/log, and the work tree inside it */

static char work[256];        /* the work tree: policy, pam.d, registry, state, snapshot */
static int have_private_dev;
static int log_fd = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_violation[512];   /* the first syslog line that carried a secret */

/* Called with log_lock held. */
static void check_log_line(const char *line, size_t n) {
    if (memmem(line, n, ENROLLED_PIN, sizeof ENROLLED_PIN - 1) || memmem(line, n, PASSWORD, sizeof PASSWORD - 1))
        if (!log_violation[0]) snprintf(log_violation, sizeof log_violation, "%.*s", (int)n, line);
}

/* syslog() blocks when a datagram socket's queue is full (net.unix.max_dgram_qlen), and
 * the module logs from the fuzzing thread itself: so a thread keeps the queue empty. It
 * takes datagrams only under log_lock, so none is ever between the queue and the check
 * when settle_log() looks. */
static void drain_log_locked(void) {
    static char buf[65536];
    ssize_t n;
    while ((n = recv(log_fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) check_log_line(buf, (size_t)n);
}

static void *log_reader(void *arg) {
    (void)arg;
    struct pollfd p = { .fd = log_fd, .events = POLLIN };
    for (;;) {
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return NULL;
        pthread_mutex_lock(&log_lock);
        drain_log_locked();
        pthread_mutex_unlock(&log_lock);
    }
}

static void bind_node(const char *stash, const char *name) {
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/%s", stash, name);
    snprintf(to, sizeof to, "/dev/%s", name);
    int fd = open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0) close(fd);
    if (mount(from, to, NULL, MS_BIND, NULL) != 0 && (!strcmp(name, "null") || !strcmp(name, "urandom")))
        fail("cannot bind %s onto %s: %s", from, to, strerror(errno));
}

/* In a mount namespace of our own, /dev becomes a fresh tmpfs holding the few devices
 * needed, our /dev/log, and the work tree: nothing of this run is visible to anyone else,
 * and it all disappears with the process, however it ends. */
static int private_dev(void) {
    if (unshare(CLONE_NEWNS) != 0) return 0;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("mount --make-rprivate /: %s", strerror(errno));
    char stash[] = "/tmp/module_entry-dev.XXXXXX";
    if (!mkdtemp(stash)) fail("mkdtemp: %s", strerror(errno));
    if (mount("/dev", stash, NULL, MS_BIND | MS_REC, NULL) != 0) fail("bind /dev: %s", strerror(errno));
    if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=64m") != 0) fail("tmpfs on /dev: %s", strerror(errno));
    const char *nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) bind_node(stash, nodes[i]);
    symlink("/proc/self/fd", "/dev/fd");
    symlink("/proc/self/fd/0", "/dev/stdin");
    symlink("/proc/self/fd/1", "/dev/stdout");
    symlink("/proc/self/fd/2", "/dev/stderr");
    umount2(stash, MNT_DETACH);
    rmdir(stash);

    log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
    if (log_fd < 0 || bind(log_fd, (struct sockaddr *)&addr, sizeof addr) != 0) fail("bind /dev/log: %s", strerror(errno));
    chmod("/dev/log", 0666);
    pthread_t t;
    if (pthread_create(&t, NULL, log_reader, NULL) != 0) fail("pthread_create");
    pthread_detach(t);
    return 1;
}

static void remove_work(void) {
    if (work[0]) remove_tree(work);
}

/* ---------------------------------------------------------------------------------------- */
/* The script */

struct script {
    const uint8_t *p;
    size_t n;
    int big_left;          /* answers of 64 KiB or more still allowed in this input */
};

enum { A_TEXT, A_NULL, A_ERR, A_NORESP };

struct answer {
    int kind;
    int rc;                /* A_ERR: what the conversation returns */
    char *text;            /* A_TEXT: malloc'd, NUL-terminated */
    size_t length;
};

static int take(struct script *s) {
    if (!s->n) return -1;
    s->n--;
    return *s->p++;
}

static char *filled(size_t length, int fill) {
    char *a = malloc(length + 1);
    if (!a) abort();
    if (fill == 0) for (size_t i = 0; i < length; i++) a[i] = (char)('0' + i % 10);
    else memset(a, fill, length);
    a[length] = 0;
    return a;
}

static char *copy_text(const char *t) {
    char *a = strdup(t);
    if (!a) abort();
    return a;
}

/* One answer from the script. Tags (low 3 bits of a byte):
 *   0 literal: a length byte, then that many bytes (a NUL inside ends the answer early)
 *   1 long: length class in bits 3-5 (256, 257, 511, 512, 4095, 4096, 64 KiB, 1 MiB),
 *     then a fill byte (0: digits)
 *   2 a NULL resp          3 PAM_CONV_ERR        4 the enrolled PIN     5 the password
 *   6 the empty answer
 *   7 by bits 3-4: 0 PAM_SUCCESS with no response array, 1 PAM_BUF_ERR, 2 PAM_ABORT,
 *     3 a length of two bytes (0-65535) and a fill byte
 * No script left: PAM_CONV_ERR. */
static struct answer next_answer(struct script *s) {
    static const size_t classes[] = { 256, 257, 511, 512, 4095, 4096, 65536, 1 << 20 };
    struct answer a = { .kind = A_ERR, .rc = PAM_CONV_ERR };
    int t = take(s);
    if (t < 0) return a;
    switch (t & 7) {
    case 0: {
        int len = take(s);
        if (len < 0) len = 0;
        size_t n = (size_t)len < s->n ? (size_t)len : s->n;
        a.kind = A_TEXT;
        a.text = malloc(n + 1);
        if (!a.text) abort();
        memcpy(a.text, s->p, n);
        a.text[n] = 0;
        s->p += n;
        s->n -= n;
        break;
    }
    case 1: {
        size_t n = classes[(t >> 3) & 7];
        int fill = take(s);
        if (n >= 65536 && s->big_left-- <= 0) n = 4096;
        a.kind = A_TEXT;
        a.text = filled(n, fill < 0 ? 'A' : fill);
        break;
    }
    case 2: a.kind = A_NULL; break;
    case 3: a.kind = A_ERR; a.rc = PAM_CONV_ERR; break;
    case 4: a.kind = A_TEXT; a.text = copy_text(ENROLLED_PIN); break;
    case 5: a.kind = A_TEXT; a.text = copy_text(PASSWORD); break;
    case 6: a.kind = A_TEXT; a.text = copy_text(""); break;
    case 7:
        switch ((t >> 3) & 3) {
        case 0: a.kind = A_NORESP; break;
        case 1: a.kind = A_ERR; a.rc = PAM_BUF_ERR; break;
        case 2: a.kind = A_ERR; a.rc = PAM_ABORT; break;
        case 3: {
            int hi = take(s), lo = take(s), fill = take(s);
            size_t n = (size_t)((hi < 0 ? 0 : hi) << 8 | (lo < 0 ? 0 : lo));
            if (n >= 65536 && s->big_left-- <= 0) n = 4096;
            a.kind = A_TEXT;
            a.text = filled(n, fill < 0 ? 'A' : fill);
            break;
        }
        }
        break;
    }
    if (a.kind == A_TEXT) a.length = strlen(a.text);
    return a;
}

/* An info or error message takes a script entry only when that entry fails the
 * conversation (tag 3, or tag 7 with bits 3-4 below 3); otherwise it is simply shown. */
static int next_fails_messages(const struct script *s) {
    if (!s->n) return 0;
    int t = s->p[0];
    return (t & 7) == 3 || ((t & 7) == 7 && ((t >> 3) & 3) < 3);
}

/* ---------------------------------------------------------------------------------------- */
/* One transaction's bookkeeping, read by the conversation function */

#define MAX_KNOWN 32
#define MAX_CONV_CALLS 256

static struct {
    struct script script;
    int in_setcred;
    int gave_secret;             /* this pam_authenticate call answered a known secret */
    char *known[MAX_KNOWN];      /* PINs that may have been chosen in this input */
    int n_known, known_overflow;
    int conv_calls;
    int saw_pin_prompt, saw_created;
    int secret_public;           /* a secret was typed where it is not secret (a user name) */
    int verbose;
} tx;

static int holds_secret(const char *text) {
    return strstr(text, ENROLLED_PIN) || strstr(text, PASSWORD);
}

static int is_known_secret(const char *a) {
    if (!strcmp(a, ENROLLED_PIN) || !strcmp(a, PASSWORD)) return 1;
    for (int i = 0; i < tx.n_known; i++) if (!strcmp(a, tx.known[i])) return 1;
    return 0;
}

static void note_answer(const struct pam_message *m, const char *a) {
    if (is_known_secret(a)) tx.gave_secret = 1;
    /* Typed at a visible prompt (libpam's "login:", the offer question), it is no secret:
     * a user name is shown in the PIN prompt and logged. */
    if (m->msg_style == PAM_PROMPT_ECHO_ON && holds_secret(a)) tx.secret_public = 1;
    /* An answer to a hidden prompt at pam_setcred may become a PIN (the offer path). */
    if (tx.in_setcred && m->msg_style == PAM_PROMPT_ECHO_OFF) {
        if (tx.n_known < MAX_KNOWN) tx.known[tx.n_known++] = copy_text(a);
        else tx.known_overflow = 1;
    }
}

static void check_shown(const char *text) {
    if (!tx.secret_public && holds_secret(text)) {
        fprintf(stderr, "module_entry: a secret was shown to the user: \"%s\"\n", text);
        abort();
    }
}

static int conversation(int n, const struct pam_message **msgs, struct pam_response **resp, void *appdata) {
    (void)appdata;
    if (++tx.conv_calls > MAX_CONV_CALLS) {
        fprintf(stderr, "module_entry: %d conversation calls in one input: the module keeps prompting\n", MAX_CONV_CALLS);
        abort();
    }
    if (n <= 0 || n > PAM_MAX_NUM_MSG) {
        fprintf(stderr, "module_entry: the conversation was called with %d messages\n", n);
        abort();
    }
    struct pam_response *replies = calloc((size_t)n, sizeof *replies);
    if (!replies) abort();
    int rc = PAM_SUCCESS, no_array = 0;
    for (int i = 0; i < n && rc == PAM_SUCCESS; i++) {
        const struct pam_message *m = msgs[i];
        if (!m || !m->msg) {
            fprintf(stderr, "module_entry: a message with no text (style %d)\n", m ? m->msg_style : -1);
            abort();
        }
        check_shown(m->msg);
        if (tx.verbose) fprintf(stderr, "  msg %d %s\n", m->msg_style, m->msg);
        if (!strncmp(m->msg, "PIN for ", 8)) tx.saw_pin_prompt = 1;
        if (!strncmp(m->msg, "Passkey created", 15)) tx.saw_created = 1;
        switch (m->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON: {
            struct answer a = next_answer(&tx.script);
            if (tx.verbose) fprintf(stderr, "  answer kind=%d rc=%d length=%zu\n", a.kind, a.rc, a.length);
            if (a.kind == A_TEXT) {
                note_answer(m, a.text);
                replies[i].resp = a.text;
            } else if (a.kind == A_ERR) {
                rc = a.rc;
            } else if (a.kind == A_NORESP) {
                no_array = 1;
            }
            break;
        }
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            if (next_fails_messages(&tx.script)) {
                struct answer a = next_answer(&tx.script);
                if (a.kind == A_ERR) rc = a.rc;
                else if (a.kind == A_NORESP) no_array = 1;
            }
            break;
        default:
            fprintf(stderr, "module_entry: a message of unknown style %d\n", m->msg_style);
            abort();
        }
    }
    if (rc != PAM_SUCCESS || no_array) {
        for (int i = 0; i < n; i++) free(replies[i].resp);
        free(replies);
        *resp = NULL;
        return rc;
    }
    *resp = replies;
    return PAM_SUCCESS;
}

/* ---------------------------------------------------------------------------------------- */
/* One input */

static char confdir[300], registry_dir[300], state_dir[300], snap_registry[300], snap_state[300];

static void restore_state(void) {
    remove_tree(registry_dir);
    remove_tree(state_dir);
    copy_tree(snap_registry, registry_dir);
    copy_tree(snap_state, state_dir);
}

static void check_children(void) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
        fprintf(stderr, "module_entry: child %d was left for the application to reap (status 0x%x)\n", pid, status);
        abort();
    }
    if (pid == 0) {
        fprintf(stderr, "module_entry: a child process is still running after pam_end\n");
        abort();
    }
}

/* Everything the module and the helper logged for this input is queued by now (the helper
 * has been reaped): take it all, then check. */
static void settle_log(void) {
    if (log_fd < 0) return;
    pthread_mutex_lock(&log_lock);
    drain_log_locked();
    int bad = log_violation[0] != 0 && !tx.secret_public;
    char line[sizeof log_violation];
    memcpy(line, log_violation, sizeof line);
    log_violation[0] = 0;
    pthread_mutex_unlock(&log_lock);
    if (bad) {
        fprintf(stderr, "module_entry: a secret in a syslog line: %s\n", line);
        abort();
    }
}

struct outcome {
    int last_auth;
    int saw_pin_prompt, saw_created;
};

/* Header: byte 0 = session flags
 *   bits 0-1 service (fuzz-login, sudo: an append_skip_services entry, cron: a
 *            noninteractive service), bit 2 PAM_SILENT at pam_authenticate, bit 3 at
 *            pam_setcred, bits 4-5 PAM_RHOST (none, 198.51.100.7, 127.0.0.1, ""), bit 6 no
 *            user at pam_start (libpam asks through the conversation), bit 7 no
 *            conversation function at all (service fuzz-noconv: pam_deny for the password,
 *            as pam_matrix would call the missing function; and always a user, see below);
 * byte 1 = four 2-bit calls: 0 pam_authenticate, 1 pam_setcred(ESTABLISH) if the last
 *            pam_authenticate succeeded (what login does), 2 pam_setcred with the flag of
 *            byte 2 bits 2-3 (ESTABLISH, REINITIALIZE, REFRESH, DELETE) whatever happened,
 *            3 PAM_USER set to the next literal of the script (a NULL-resp entry: unset);
 * byte 2 = bits 0-1 number of calls - 1, bits 2-3 the flag of call 2, bit 4 the credentials
 *            of a setuid-root program run by a user (su, sudo): real uid 65534, effective
 *            uid 0, for the whole transaction. */
static struct outcome run_one(const uint8_t *data, size_t size) {
    struct outcome out = { .last_auth = -1 };
    uint8_t flags = size > 0 ? data[0] : 0;
    uint8_t calls = size > 1 ? data[1] : 0x04;
    uint8_t extra = size > 2 ? data[2] : 1;
    size_t skip = size < 3 ? size : 3;
    static const int setcred_flags[] = { PAM_ESTABLISH_CRED, PAM_REINITIALIZE_CRED, PAM_REFRESH_CRED, PAM_DELETE_CRED };
    static const char *const rhosts[] = { NULL, "198.51.100.7", "127.0.0.1", "" };

    if (tx.verbose) fprintf(stderr, "module_entry: input of %zu bytes\n", size);
    restore_state();
    int as_setuid = (extra & 0x10) != 0;
    if (as_setuid && setresuid(65534, 0, 0) != 0) fail("setresuid: %s", strerror(errno));
    memset(&tx.script, 0, sizeof tx.script);
    tx.script.p = data + skip;
    tx.script.n = size - skip;
    tx.script.big_left = 4;
    tx.n_known = tx.known_overflow = tx.conv_calls = tx.saw_pin_prompt = tx.saw_created = tx.secret_public = 0;

    /* libpam's pam_get_user (1.5.2) calls conv->conv without looking whether it is NULL:
     * with no conversation function there is always a user, or any module asking libpam
     * for the user name would crash inside libpam. */
    int no_conv = (flags & 0x80) != 0;
    struct pam_conv conv = { no_conv ? NULL : conversation, NULL };
    pam_handle_t *pamh = NULL;
    /* pam_matrix calls the conversation without checking it is there: with none, the
     * password line of that stack is pam_deny. */
    const char *service = (flags & 0x80) ? "fuzz-noconv" : SERVICES[flags & 3];
    int rc = pam_start_confdir(service, (flags & 0x40) && !no_conv ? NULL : USER, &conv, confdir, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "module_entry: pam_start_confdir: %d\n", rc);
        abort();
    }
    const char *rhost = rhosts[(flags >> 4) & 3];
    if (rhost) pam_set_item(pamh, PAM_RHOST, rhost);
    pam_set_item(pamh, PAM_TTY, "pts/7");

    int last = PAM_AUTH_ERR, count = (extra & 3) + 1;
    for (int c = 0; c < count; c++) {
        int op = (calls >> (2 * c)) & 3;
        if (op == 0) {
            tx.in_setcred = 0;
            tx.gave_secret = 0;
            last = pam_authenticate(pamh, (flags & 4) ? PAM_SILENT : 0);
            if (tx.verbose) fprintf(stderr, "  pam_authenticate -> %d\n", last);
            if (last == PAM_SUCCESS && !tx.gave_secret && !tx.known_overflow) {
                fprintf(stderr, "module_entry: pam_authenticate returned PAM_SUCCESS, but no prompt was answered "
                                "with the PIN or the password\n");
                abort();
            }
            out.last_auth = last;
        } else if (op == 1 || op == 2) {
            if (op == 1 && last != PAM_SUCCESS) continue;
            int f = op == 1 ? PAM_ESTABLISH_CRED : setcred_flags[(extra >> 2) & 3];
            tx.in_setcred = 1;
            int r = pam_setcred(pamh, f | ((flags & 8) ? PAM_SILENT : 0));
            tx.in_setcred = 0;
            if (tx.verbose) fprintf(stderr, "  pam_setcred(0x%x) -> %d\n", f, r);
        } else {
            struct answer a = next_answer(&tx.script);
            if (a.kind == A_TEXT && holds_secret(a.text)) tx.secret_public = 1;
            if (a.kind == A_TEXT || !no_conv) pam_set_item(pamh, PAM_USER, a.kind == A_TEXT ? a.text : NULL);
            if (tx.verbose) fprintf(stderr, "  PAM_USER set (kind %d, length %zu)\n", a.kind, a.length);
            free(a.text);
        }
    }
    pam_end(pamh, last);
    if (as_setuid && setresuid(0, 0, 0) != 0) fail("setresuid back to root: %s", strerror(errno));
    check_children();
    settle_log();
    for (int i = 0; i < tx.n_known; i++) free(tx.known[i]);
    tx.n_known = 0;
    out.saw_pin_prompt = tx.saw_pin_prompt;
    out.saw_created = tx.saw_created;
    return out;
}

/* ---------------------------------------------------------------------------------------- */
/* Start-up: the work tree, the stack, one enrolment */

static void make_dir(const char *path, mode_t mode) {
    if (mkdir(path, mode) != 0) fail("mkdir %s: %s", path, strerror(errno));
    chmod(path, mode);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    tx.verbose = getenv("MODULE_ENTRY_VERBOSE") && *getenv("MODULE_ENTRY_VERBOSE") == '1';
    const char *build = getenv("PAM_PASSKEY_BUILD");
    if (!build || !*build) build = FUZZ_DEFAULT_BUILD_DIR;
    char module[512], helper[512];
    snprintf(module, sizeof module, "%s/pam_passkey.so", build);
    snprintf(helper, sizeof helper, "%s/pam_passkey_helper", build);
    if (access(module, R_OK) != 0 || access(helper, X_OK) != 0)
        fail("%s or %s is missing: run `make build` first (or set PAM_PASSKEY_BUILD)", module, helper);
    if (access(PAM_MATRIX, R_OK) != 0) fail("%s is missing: install libpam-wrapper (scripts/install-deps.sh)", PAM_MATRIX);
    if (geteuid() != 0) fail("run as root: the helper and the module's state checks expect root");

    have_private_dev = private_dev();
    if (have_private_dev) {
        snprintf(work, sizeof work, "/dev/module_entry");
        make_dir(work, 0755);
    } else {
        fprintf(stderr, "module_entry: no private mount namespace (%s): syslog lines go to the system's /dev/log "
                        "and are not checked\n", strerror(errno));
        const char *tmp = getenv("TMPDIR");
        snprintf(work, sizeof work, "%s/module_entry.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(work)) fail("mkdtemp %s: %s", work, strerror(errno));
        chmod(work, 0755);
        atexit(remove_work);
    }

    char path[512], text[4096];
    snprintf(confdir, sizeof confdir, "%s/pam.d", work);
    snprintf(registry_dir, sizeof registry_dir, "%s/registry", work);
    snprintf(state_dir, sizeof state_dir, "%s/state", work);
    snprintf(snap_registry, sizeof snap_registry, "%s/snapshot-registry", work);
    snprintf(snap_state, sizeof snap_state, "%s/snapshot-state", work);
    make_dir(confdir, 0755);
    make_dir(registry_dir, 0755);
    make_dir(state_dir, 0700);

    snprintf(path, sizeof path, "%s/machine-id", work);
    write_file(path, "6d6f64756c655f656e7472795f66757a\n", 0444);
    char conf[512], passdb[512];
    snprintf(conf, sizeof conf, "%s/pam_passkey.conf", work);
    snprintf(text, sizeof text,
             "rp_id = pam_passkey.fuzz\nhost_name = fuzzhost\nhost_id_file = %s\nregistry_dir = %s\nstate_dir = %s\n"
             "helper = %s\nauthenticator = software\npin_kdf_cost = 10\npin_max_attempts = 3\nhelper_timeout = 5s\n",
             path, registry_dir, state_dir, helper);
    write_file(conf, text, 0644);
    snprintf(passdb, sizeof passdb, "%s/passdb", work);
    text[0] = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "%s:%s:%s\n", USER, PASSWORD, SERVICES[i]);
    }
    write_file(passdb, text, 0600);
    /* pam_matrix is not pam_unix: it may decline (PAM_IGNORE), which requisite passes over,
       so the append step's stack check wants [success=ok default=die] for it. A private PAM
       directory (pam_start_confdir) is named to the module by stack=. */
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", confdir, SERVICES[i]);
        snprintf(text, sizeof text,
                 "auth  [success=done default=ignore]  %s conf=%s stack=%s\n"
                 "auth  [success=ok default=die]       %s passdb=%s\n"
                 "auth  optional                       %s conf=%s stack=%s append\n",
                 module, conf, path, PAM_MATRIX, passdb, module, conf, path);
        write_file(path, text, 0644);
    }
    snprintf(path, sizeof path, "%s/fuzz-noconv", confdir);
    snprintf(text, sizeof text,
             "auth  [success=done default=ignore]  %s conf=%s stack=%s\n"
             "auth  requisite                      pam_deny.so\n"
             "auth  optional                       %s conf=%s stack=%s append\n",
             module, conf, path, module, conf, path);
    write_file(path, text, 0644);
    snprintf(path, sizeof path, "%s/other", confdir);
    write_file(path, "auth required pam_deny.so\n", 0644);

    /* The empty state is the first snapshot; enrol from it, then keep the result. */
    copy_tree(registry_dir, snap_registry);
    copy_tree(state_dir, snap_state);
    /* fuzz-login, calls: authenticate then setcred-if-ok; script: password, "y", PIN, PIN. */
    uint8_t enrol[64] = { 0x00, 0x04, 0x01, 5, 0, 1, 'y', 4, 4 };
    struct outcome o = run_one(enrol, 9);
    if (o.last_auth != PAM_SUCCESS || !o.saw_created)
        fail("enrolment through the offer path did not create a passkey (pam_authenticate %d); "
             "MODULE_ENTRY_VERBOSE=1 shows the conversation", o.last_auth);
    remove_tree(snap_registry);
    remove_tree(snap_state);
    copy_tree(registry_dir, snap_registry);
    copy_tree(state_dir, snap_state);

    /* From the snapshot: the PIN signs in; a wrong PIN and no password do not. */
    uint8_t right[] = { 0x00, 0x04, 0x01, 4 };
    o = run_one(right, sizeof right);
    if (o.last_auth != PAM_SUCCESS || !o.saw_pin_prompt) fail("the enrolled PIN does not sign in (%d)", o.last_auth);
    uint8_t wrong[] = { 0x00, 0x04, 0x01, 0, 6, '9', '1', '7', '3', '5', '8' };
    o = run_one(wrong, sizeof wrong);
    if (o.last_auth == PAM_SUCCESS || !o.saw_pin_prompt) fail("a wrong PIN was not refused (%d)", o.last_auth);
    fprintf(stderr, "module_entry: enrolled %s on fuzzhost; work tree %s%s\n", USER, work,
            have_private_dev ? " (private /dev, syslog checked)" : "");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run_one(data, size);
    return 0;
}
