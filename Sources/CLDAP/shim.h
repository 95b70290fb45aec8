// libldap (OpenLDAP) for pam_passkey_directory only: the module, the helper and passkeyctl
// never link it (it would add megabytes and read ~/.ldaprc and LDAP* variables in every
// login). The non-deprecated API: ldap_initialize, ldap_sasl_bind_s, ldap_search_ext_s.
#ifndef PAM_PASSKEY_CLDAP_H
#define PAM_PASSKEY_CLDAP_H
#include <lber.h>
#include <ldap.h>
#include <sasl/sasl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

// The macros Swift does not import.
static const int pam_passkey_ldap_opt_on = 1;
static inline void *pam_passkey_ldap_sasl_simple(void) { return LDAP_SASL_SIMPLE; }

// The interaction callback of ldap_sasl_interactive_bind_s for a GSSAPI bind: the identity
// comes from the Kerberos credentials, so every question Cyrus SASL asks (in practice the
// authorization id) is answered with its default, or with nothing, which means "the
// authenticated identity itself". Nothing is ever read from a terminal or the environment.
static inline int pam_passkey_sasl_defaults(LDAP *ld, unsigned flags, void *defaults, void *interact) {
    (void)ld; (void)flags; (void)defaults;
    for (sasl_interact_t *i = interact; i != NULL && i->id != SASL_CB_LIST_END; i++) {
        const char *answer = i->defresult != NULL ? i->defresult : "";
        i->result = answer;
        i->len = (unsigned)strlen(answer);
    }
    return LDAP_SUCCESS;
}

// An anonymous file in memory (memfd_create(2), MFD_CLOEXEC), for the keytab libkrb5 reads:
// the bytes this program checked, never the path again. Through syscall(2): glibc declares
// memfd_create only with _GNU_SOURCE, which Swift's Glibc module is not built with.
static inline int pam_passkey_memfd(const char *name) { return (int)syscall(SYS_memfd_create, name, 1U); }

// A deadline for a step that no library bounds (the KDC exchanges inside a GSSAPI bind: MIT
// krb5 1.20 has no setting for how long it waits): after `millis` the line (prepared here,
// beforehand) is written to stdout and the process exits 2, from the signal handler, with
// only async-signal-safe calls. One caller in the program (Kerberos.swift).
// The line lives in function-local statics: Swift emits the C functions it calls, with
// their statics, but not file-scope variables of a header.
static inline char *pam_passkey_deadline_state(size_t **length, size_t *capacity) {
    static char line[2048];
    static size_t used;
    *length = &used;
    *capacity = sizeof line;
    return line;
}
static void pam_passkey_on_deadline(int sig) {
    (void)sig;
    size_t *length, capacity;
    char *line = pam_passkey_deadline_state(&length, &capacity);
    ssize_t ignored = write(1, line, *length);
    (void)ignored;
    _exit(2);
}
static inline int pam_passkey_arm_deadline(const char *text, long millis) {
    size_t *length, capacity;
    char *line = pam_passkey_deadline_state(&length, &capacity);
    size_t n = strlen(text);
    if (n > capacity - 1) n = capacity - 1;
    memcpy(line, text, n);
    line[n] = '\n';
    *length = n + 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = pam_passkey_on_deadline;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGALRM, &action, NULL) != 0) return -1;
    struct itimerval timer;
    memset(&timer, 0, sizeof timer);
    timer.it_value.tv_sec = millis / 1000;
    timer.it_value.tv_usec = (millis % 1000) * 1000;
    return setitimer(ITIMER_REAL, &timer, NULL);
}
static inline void pam_passkey_disarm_deadline(void) {
    struct itimerval timer;
    memset(&timer, 0, sizeof timer);
    (void)setitimer(ITIMER_REAL, &timer, NULL);
}
#endif
