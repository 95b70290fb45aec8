// See include/pam_passkey_crypto_loader.h: the one copy of libcrypto's handle in a program.
#include "pam_passkey_crypto_loader.h"

static void *handle;
static pam_passkey_crypto_open_hook hook;
static char problem[320];

void pam_passkey_crypto_note_problem(const char *why, const char *fallback) {
    const char *text = why != NULL ? why : fallback;
    size_t i = 0;
    for (; text[i] != '\0' && i < sizeof problem - 1; i++) problem[i] = text[i];
    problem[i] = '\0';
}

const char *pam_passkey_crypto_problem(void) { return problem[0] != '\0' ? problem : NULL; }

int pam_passkey_crypto_on_first_open(pam_passkey_crypto_open_hook h) {
    if (handle != NULL || hook != NULL) return 0;
    hook = h;
    return 1;
}

void *pam_passkey_crypto_handle(void) {
    if (handle == NULL) {
        void *opened = dlopen(PAM_PASSKEY_LIBCRYPTO_PATH, RTLD_NOW | RTLD_LOCAL);
        if (opened == NULL) {
            pam_passkey_crypto_note_problem(dlerror(), PAM_PASSKEY_LIBCRYPTO_PATH ": cannot be loaded");
            return NULL;
        }
        problem[0] = '\0';
        // Before anyone else has the handle: the hook's call is the library's first. It is
        // cleared first, so a hook that asks for the handle cannot run itself again.
        pam_passkey_crypto_open_hook first = hook;
        hook = NULL;
        if (first != NULL) first(opened);
        handle = opened;
    }
    return handle;
}
