// libldap (OpenLDAP) for pam_passkey_directory only: the module, the helper and passkeyctl
// never link it (it would add megabytes and read ~/.ldaprc and LDAP* variables in every
// login). The non-deprecated API: ldap_initialize, ldap_sasl_bind_s, ldap_search_ext_s.
#ifndef PAM_PASSKEY_CLDAP_H
#define PAM_PASSKEY_CLDAP_H
#include <lber.h>
#include <ldap.h>
#include <sasl/sasl.h>
#include <sys/syscall.h>
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
#endif
