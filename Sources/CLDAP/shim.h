// libldap (OpenLDAP) for pam_passkey_directory only: the module, the helper and passkeyctl
// never link it (it would add megabytes and read ~/.ldaprc and LDAP* variables in every
// login). The non-deprecated API: ldap_initialize, ldap_sasl_bind_s, ldap_search_ext_s.
#ifndef PAM_PASSKEY_CLDAP_H
#define PAM_PASSKEY_CLDAP_H
#include <lber.h>
#include <ldap.h>

// The macros Swift does not import.
static const int pam_passkey_ldap_opt_on = 1;
static inline void *pam_passkey_ldap_sasl_simple(void) { return LDAP_SASL_SIMPLE; }
#endif
