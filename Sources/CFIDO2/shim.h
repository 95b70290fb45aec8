// libfido2 from Debian's libfido2-dev, for the helper's security-key backend.
//
// Loaded on first use, not linked: the helper runs on every passkey login, and a login with
// the host's own authenticator (or a user without security keys) never touches a key, so it
// should not map and relocate libfido2, libcbor and libudev at each start. The header gives
// the types; each function the Swift code calls goes through a `pam_passkey_` wrapper that
// dlopens libfido2.so.1 the first time and then calls through the pointer dlsym gave (typed
// by __typeof__ of the header's declaration, so a wrong signature does not compile). Without
// the library the wrappers return FIDO_ERR_INTERNAL (or NULL, 0, false) and
// `pam_passkey_fido_problem` says why. pam_passkey.so never includes this header.
#ifndef PAM_PASSKEY_CFIDO2_H
#define PAM_PASSKEY_CFIDO2_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <fido.h>
#include "../CLibcryptoLoader/include/pam_passkey_crypto_loader.h"

static inline char *pam_passkey_fido_problem_buffer(void) {
    static char problem[256];
    return problem;
}

/// Why libfido2 (or one of its symbols) could not be loaded; NULL when nothing failed.
static inline const char *pam_passkey_fido_problem(void) {
    const char *p = pam_passkey_fido_problem_buffer();
    return p[0] != '\0' ? p : NULL;
}

static inline void *pam_passkey_fido_symbol(const char *name) {
    static void *handle;
    static int initialised;
    if (handle == NULL) {
        // libfido2 links libcrypto: open it through the loader first, so the helper's
        // allocator hook runs before fido_init can make OpenSSL allocate.
        (void)pam_passkey_crypto_handle();
        handle = dlopen("libfido2.so.1", RTLD_NOW | RTLD_LOCAL);
        if (handle == NULL) {
            const char *why = dlerror();
            const char *text = why != NULL ? why : "libfido2.so.1 cannot be loaded";
            char *out = pam_passkey_fido_problem_buffer();
            size_t i = 0;
            for (; text[i] != '\0' && i < 255; i++) out[i] = text[i];
            out[i] = '\0';
            return NULL;
        }
    }
    if (!initialised) {
        initialised = 1;
        void (*init)(int) = (void (*)(int))dlsym(handle, "fido_init");
        if (init != NULL) init(0);  // no FIDO_DEBUG: nothing on stderr
    }
    return dlsym(handle, name);
}

#define PAM_PASSKEY_FIDO(type, name, parameters, arguments, fallback)                       \
    static inline type pam_passkey_##name parameters {                                      \
        static __typeof__(&name) f;                                                         \
        if (f == NULL) f = (__typeof__(&name))pam_passkey_fido_symbol(#name);               \
        return f != NULL ? f arguments : (fallback);                                        \
    }

#define PAM_PASSKEY_FIDO_VOID(name, parameters, arguments)                                  \
    static inline void pam_passkey_##name parameters {                                      \
        static __typeof__(&name) f;                                                         \
        if (f == NULL) f = (__typeof__(&name))pam_passkey_fido_symbol(#name);               \
        if (f != NULL) f arguments;                                                         \
    }

// Devices.
PAM_PASSKEY_FIDO(fido_dev_t *, fido_dev_new, (void), (), NULL)
PAM_PASSKEY_FIDO_VOID(fido_dev_free, (fido_dev_t **d), (d))
PAM_PASSKEY_FIDO(int, fido_dev_open, (fido_dev_t *d, const char *path), (d, path), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_dev_close, (fido_dev_t *d), (d), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_dev_set_timeout, (fido_dev_t *d, int ms), (d, ms), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_dev_cancel, (fido_dev_t *d), (d), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(bool, fido_dev_is_fido2, (const fido_dev_t *d), (d), false)
PAM_PASSKEY_FIDO(bool, fido_dev_has_pin, (const fido_dev_t *d), (d), false)
PAM_PASSKEY_FIDO(bool, fido_dev_supports_pin, (const fido_dev_t *d), (d), false)
PAM_PASSKEY_FIDO(int, fido_dev_get_retry_count, (fido_dev_t *d, int *n), (d, n), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_dev_set_pin, (fido_dev_t *d, const char *pin, const char *old), (d, pin, old), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_dev_get_assert, (fido_dev_t *d, fido_assert_t *a, const char *pin), (d, a, pin), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_dev_make_cred, (fido_dev_t *d, fido_cred_t *c, const char *pin), (d, c, pin), FIDO_ERR_INTERNAL)

// Enumeration (udev hidraw devices).
PAM_PASSKEY_FIDO(fido_dev_info_t *, fido_dev_info_new, (size_t n), (n), NULL)
PAM_PASSKEY_FIDO_VOID(fido_dev_info_free, (fido_dev_info_t **i, size_t n), (i, n))
PAM_PASSKEY_FIDO(int, fido_dev_info_manifest, (fido_dev_info_t *i, size_t n, size_t *found), (i, n, found), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(const fido_dev_info_t *, fido_dev_info_ptr, (const fido_dev_info_t *i, size_t k), (i, k), NULL)
PAM_PASSKEY_FIDO(const char *, fido_dev_info_path, (const fido_dev_info_t *i), (i), NULL)

// authenticatorGetInfo.
PAM_PASSKEY_FIDO(fido_cbor_info_t *, fido_cbor_info_new, (void), (), NULL)
PAM_PASSKEY_FIDO_VOID(fido_cbor_info_free, (fido_cbor_info_t **i), (i))
PAM_PASSKEY_FIDO(int, fido_dev_get_cbor_info, (fido_dev_t *d, fido_cbor_info_t *i), (d, i), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(const unsigned char *, fido_cbor_info_aaguid_ptr, (const fido_cbor_info_t *i), (i), NULL)
PAM_PASSKEY_FIDO(size_t, fido_cbor_info_aaguid_len, (const fido_cbor_info_t *i), (i), 0)

// Assertions.
PAM_PASSKEY_FIDO(fido_assert_t *, fido_assert_new, (void), (), NULL)
PAM_PASSKEY_FIDO_VOID(fido_assert_free, (fido_assert_t **a), (a))
PAM_PASSKEY_FIDO(int, fido_assert_set_rp, (fido_assert_t *a, const char *rp), (a, rp), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_assert_set_clientdata_hash, (fido_assert_t *a, const unsigned char *h, size_t n), (a, h, n), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_assert_allow_cred, (fido_assert_t *a, const unsigned char *id, size_t n), (a, id, n), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_assert_set_up, (fido_assert_t *a, fido_opt_t o), (a, o), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_assert_set_uv, (fido_assert_t *a, fido_opt_t o), (a, o), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(size_t, fido_assert_count, (const fido_assert_t *a), (a), 0)
PAM_PASSKEY_FIDO(const unsigned char *, fido_assert_id_ptr, (const fido_assert_t *a, size_t k), (a, k), NULL)
PAM_PASSKEY_FIDO(size_t, fido_assert_id_len, (const fido_assert_t *a, size_t k), (a, k), 0)
PAM_PASSKEY_FIDO(const unsigned char *, fido_assert_authdata_ptr, (const fido_assert_t *a, size_t k), (a, k), NULL)
PAM_PASSKEY_FIDO(size_t, fido_assert_authdata_len, (const fido_assert_t *a, size_t k), (a, k), 0)
PAM_PASSKEY_FIDO(const unsigned char *, fido_assert_sig_ptr, (const fido_assert_t *a, size_t k), (a, k), NULL)
PAM_PASSKEY_FIDO(size_t, fido_assert_sig_len, (const fido_assert_t *a, size_t k), (a, k), 0)

// Credentials.
PAM_PASSKEY_FIDO(fido_cred_t *, fido_cred_new, (void), (), NULL)
PAM_PASSKEY_FIDO_VOID(fido_cred_free, (fido_cred_t **c), (c))
PAM_PASSKEY_FIDO(int, fido_cred_set_type, (fido_cred_t *c, int t), (c, t), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_cred_set_clientdata_hash, (fido_cred_t *c, const unsigned char *h, size_t n), (c, h, n), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_cred_set_rp, (fido_cred_t *c, const char *id, const char *name), (c, id, name), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_cred_set_user,
                 (fido_cred_t *c, const unsigned char *uid, size_t n, const char *name, const char *display, const char *icon),
                 (c, uid, n, name, display, icon), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_cred_set_rk, (fido_cred_t *c, fido_opt_t o), (c, o), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(int, fido_cred_set_prot, (fido_cred_t *c, int p), (c, p), FIDO_ERR_INTERNAL)
PAM_PASSKEY_FIDO(const char *, fido_cred_fmt, (const fido_cred_t *c), (c), NULL)
PAM_PASSKEY_FIDO(const unsigned char *, fido_cred_authdata_raw_ptr, (const fido_cred_t *c), (c), NULL)
PAM_PASSKEY_FIDO(size_t, fido_cred_authdata_raw_len, (const fido_cred_t *c), (c), 0)
PAM_PASSKEY_FIDO(const unsigned char *, fido_cred_attstmt_ptr, (const fido_cred_t *c), (c), NULL)
PAM_PASSKEY_FIDO(size_t, fido_cred_attstmt_len, (const fido_cred_t *c), (c), 0)
PAM_PASSKEY_FIDO(const unsigned char *, fido_cred_id_ptr, (const fido_cred_t *c), (c), NULL)
PAM_PASSKEY_FIDO(size_t, fido_cred_id_len, (const fido_cred_t *c), (c), 0)

PAM_PASSKEY_FIDO(const char *, fido_strerr, (int e), (e), "libfido2 is not available")

#endif
