// passkey-footprint-probe: what loading pam_passkey.so and one passkey login add to a PAM
// application's memory, measured in a process that looks like one: a small C program
// linked with libpam and nothing else (a Swift host would already carry a Swift runtime and
// libstdc++). Run by `passkey-bench pam`, once per sample:
//
//   passkey-footprint-probe sshd|login CONFDIR USER PIN MODULE [SERVICE]
//   passkey-footprint-probe fresh-sshd|fresh-login CONFDIR USER ANSWER SERVICE
//
// sshd: libcrypto is loaded and initialised first, as sshd has it before any PAM call.
// login: it is not (login, su and sudo do not use it); the module brings it in.
//
// The first form prints `load_us=… rss_before_kb=… rss_loaded_kb=… rss_after_kb=…
// anon_before_kb=… anon_after_kb=…`: the login runs through SERVICE (default `footprint`, a
// stack of MODULE alone). With PASSKEY_BENCH_SMAPS=FILE, also copies /proc/self/smaps to FILE.
//
// The fresh- form is what login, su and each sshd session pay: one transaction through
// SERVICE in a process that has made none before (libpam's first use, loading every module
// of the stack and its libraries, the login itself). Prints `fresh_us=… start_us=… auth_us=…
// end_us=… status=…`: the whole, then pam_start (the modules' load), pam_authenticate and
// pam_end.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *pin;

static int answer(int n, const struct pam_message **messages, struct pam_response **responses, void *data) {
    (void)data;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (r == NULL) return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF || messages[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup(pin);
        }
    }
    *responses = r;
    return PAM_SUCCESS;
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/// One transaction: pam_start_confdir, pam_authenticate, pam_end. With marks, also the times
/// (now_us) at which pam_start and pam_authenticate returned.
static int transaction(const char *service, const char *user, const char *confdir, double marks[2]) {
    struct pam_conv conv = {answer, NULL};
    pam_handle_t *handle = NULL;
    int status = pam_start_confdir(service, user, &conv, confdir, &handle);
    if (marks != NULL) marks[0] = marks[1] = now_us();
    if (status != PAM_SUCCESS) return status;
    status = pam_authenticate(handle, 0);
    if (marks != NULL) marks[1] = now_us();
    pam_end(handle, status);
    return status;
}

/// A field of /proc/self/status in kB, or -1.
static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL) return -1;
    char line[256];
    long value = -1;
    size_t length = strlen(field);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, length) == 0) value = strtol(line + length, NULL, 10);
    }
    fclose(f);
    return value;
}

/// What sshd has done before any PAM call: libcrypto loaded, its default provider in use.
static int initialise_libcrypto(void) {
    void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_GLOBAL);
    if (crypto == NULL) return -1;
    void *(*fetch)(void *, const char *, const char *) = (void *(*)(void *, const char *, const char *))dlsym(crypto, "EVP_MD_fetch");
    void (*release)(void *) = (void (*)(void *))dlsym(crypto, "EVP_MD_free");
    if (fetch == NULL || release == NULL) return -1;
    void *sha256 = fetch(NULL, "SHA256", NULL);
    if (sha256 == NULL) return -1;
    release(sha256);
    return 0;
}

static void copy_smaps(const char *to) {
    int in = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    char buffer[65536];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buffer, sizeof buffer)) > 0) {
        if (write(out, buffer, (size_t)n) != n) break;
    }
    if (in >= 0) close(in);
    if (out >= 0) close(out);
}

/// One transaction in a process that has made none: its time from pam_start to pam_end, and
/// the three parts (pam_start loads the stack's modules; the first pam_authenticate in a
/// process pays each module's first use).
static int fresh(const char *service, const char *user, const char *confdir) {
    double marks[2];
    double t0 = now_us();
    int status = transaction(service, user, confdir, marks);
    double t3 = now_us();
    printf("fresh_us=%.1f start_us=%.1f auth_us=%.1f end_us=%.1f status=%d\n", t3 - t0, marks[0] - t0, marks[1] - marks[0],
           t3 - marks[1], status);
    return 0;
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "";
    int isFresh = strncmp(host, "fresh-", 6) == 0;
    if (isFresh) host += 6;
    if ((isFresh ? argc != 6 : argc != 6 && argc != 7) || (strcmp(host, "sshd") != 0 && strcmp(host, "login") != 0)) {
        fprintf(stderr, "usage: passkey-footprint-probe sshd|login CONFDIR USER PIN MODULE [SERVICE]\n"
                        "       passkey-footprint-probe fresh-sshd|fresh-login CONFDIR USER ANSWER SERVICE\n");
        return 2;
    }
    const char *confdir = argv[2], *user = argv[3], *module = argv[5];
    const char *service = argc == 7 ? argv[6] : "footprint";
    pin = argv[4];
    if (strcmp(host, "sshd") == 0 && initialise_libcrypto() != 0) {
        fprintf(stderr, "footprint: cannot initialise libcrypto: %s\n", dlerror());
        return 1;
    }
    if (isFresh) return fresh(argv[5], user, confdir);
    // libpam's own first use is not the module's.
    int status = transaction("permit", user, confdir, NULL);
    if (status != PAM_SUCCESS) {
        fprintf(stderr, "footprint: pam_permit failed (%d)\n", status);
        return 1;
    }
    long before = status_kb("VmRSS:"), anonymous_before = status_kb("RssAnon:");
    double t0 = now_us();
    if (dlopen(module, RTLD_NOW | RTLD_LOCAL) == NULL) {
        fprintf(stderr, "footprint: dlopen %s: %s\n", module, dlerror());
        return 1;
    }
    double load = now_us() - t0;
    long loaded = status_kb("VmRSS:");
    status = transaction(service, user, confdir, NULL);
    if (status != PAM_SUCCESS) {
        fprintf(stderr, "footprint: the login through %s failed (%d)\n", service, status);
        return 1;
    }
    long after = status_kb("VmRSS:"), anonymous_after = status_kb("RssAnon:");
    const char *smaps = getenv("PASSKEY_BENCH_SMAPS");
    if (smaps != NULL) copy_smaps(smaps);
    printf("load_us=%.1f rss_before_kb=%ld rss_loaded_kb=%ld rss_after_kb=%ld anon_before_kb=%ld anon_after_kb=%ld\n",
           load, before, loaded, after, anonymous_before, anonymous_after);
    return 0;
}
