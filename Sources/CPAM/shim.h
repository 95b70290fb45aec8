#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <security/pam_ext.h>
#include <syslog.h>

/// One line to syslog through pam_syslog, the text passed as a "%s" argument (never as the
/// format). pam_syslog is variadic, which Swift cannot call; going through pam_vsyslog from
/// Swift builds a va_list with `withVaList`, whose CVarArg existentials cost a run-time
/// conformance lookup (about 260,000 instructions on a process's first login) and an
/// allocation on every line.
static inline void pam_passkey_syslog(pam_handle_t *pamh, int priority, const char *text) {
    pam_syslog(pamh, priority, "%s", text);
}
