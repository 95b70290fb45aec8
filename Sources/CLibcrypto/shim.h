// libcrypto (OpenSSL 3, Debian's libssl3) for Sources/Crypto, opened on first use.
//
// pam_passkey.so is loaded into login, su, sudo, sshd and screen lockers, and most of its
// calls step aside without any cryptography; linked (DT_NEEDED), libcrypto was mapped and
// relocated in every PAM application that did not already have it (login, su, sudo: about
// 1 ms and 3.5 MB per process). So nothing links it: every function Sources/Crypto calls goes
// through a `pam_passkey_` wrapper below, which dlopens the library the first time and then
// calls through the pointer dlsym gave, typed by __typeof__ of the header's own declaration
// (a wrong signature does not compile). CTSS2's and CFIDO2's wrappers follow the same pattern
// with handles of their own; this one's is the program's one handle of libcrypto, in
// Sources/CLibcryptoLoader.
//
// Which file: one absolute path, fixed when this is compiled (Debian's multiarch directory
// for the target), never a bare soname. A bare soname would go through the loader's search,
// which in a PAM application that is not setuid includes LD_LIBRARY_PATH from the caller's
// environment; an absolute path does not search. A process that already has libcrypto
// loaded (sshd) gets that same copy back: the loader recognises the file by device and
// inode whatever name it was loaded by.
//
// When the library cannot be loaded every wrapper returns what the function returns on
// failure (0, NULL, or nothing for the frees), so nothing verifies, decrypts or derives;
// `pam_passkey_crypto_problem` says why, and the ceremonies check
// `pam_passkey_crypto_available` before they ask for a PIN (fail closed, with a log line).
#ifndef PAM_PASSKEY_CLIBCRYPTO_H
#define PAM_PASSKEY_CLIBCRYPTO_H

#include <dlfcn.h>
#include <stddef.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// The handle, the note of why the library could not be loaded, and the path are the
// loader's (Sources/CLibcryptoLoader, one C translation unit): these wrappers are `static
// inline`, so each object file has its own copies of their `static` locals, but every one of
// them opens the library through that one pam_passkey_crypto_handle. A program of our own
// (the helper) can have a hook run right after the dlopen, before any other libcrypto call.
#include "../CLibcryptoLoader/include/pam_passkey_crypto_loader.h"

/// Where libcrypto is loaded from (for tests and messages).
static inline const char *pam_passkey_crypto_path(void) { return PAM_PASSKEY_LIBCRYPTO_PATH; }

/// Whether libcrypto is loaded (loading it now if it is not).
static inline int pam_passkey_crypto_available(void) { return pam_passkey_crypto_handle() != NULL; }

static inline void *pam_passkey_crypto_symbol(const char *name) {
    void *handle = pam_passkey_crypto_handle();
    if (handle == NULL) return NULL;
    void *symbol = dlsym(handle, name);
    if (symbol == NULL) pam_passkey_crypto_note_problem(dlerror(), name);
    return symbol;
}

#define PAM_PASSKEY_CRYPTO(type, name, parameters, arguments, fallback)                             \
    static inline type pam_passkey_##name parameters {                                              \
        static __typeof__(&name) resolved;                                                          \
        if (resolved == NULL) resolved = (__typeof__(&name))pam_passkey_crypto_symbol(#name);       \
        return resolved != NULL ? resolved arguments : (fallback);                                  \
    }

#define PAM_PASSKEY_CRYPTO_VOID(name, parameters, arguments)                                        \
    static inline void pam_passkey_##name parameters {                                              \
        static __typeof__(&name) resolved;                                                          \
        if (resolved == NULL) resolved = (__typeof__(&name))pam_passkey_crypto_symbol(#name);       \
        if (resolved != NULL) resolved arguments;                                                   \
    }

// Errors.
PAM_PASSKEY_CRYPTO(unsigned long, ERR_get_error, (void), (), 0)
PAM_PASSKEY_CRYPTO_VOID(ERR_clear_error, (void), ())
PAM_PASSKEY_CRYPTO_VOID(ERR_error_string_n, (unsigned long e, char *buf, size_t len), (e, buf, len))

// Memory.
PAM_PASSKEY_CRYPTO_VOID(CRYPTO_free, (void *p, const char *file, int line), (p, file, line))
PAM_PASSKEY_CRYPTO_VOID(CRYPTO_clear_free, (void *p, size_t n, const char *file, int line), (p, n, file, line))

// Digests, HMAC.
PAM_PASSKEY_CRYPTO(const EVP_MD *, EVP_sha256, (void), (), NULL)
PAM_PASSKEY_CRYPTO(int, EVP_Digest, (const void *d, size_t n, unsigned char *md, unsigned int *size, const EVP_MD *t, ENGINE *e),
                   (d, n, md, size, t, e), 0)
PAM_PASSKEY_CRYPTO(unsigned char *, HMAC,
                   (const EVP_MD *m, const void *k, int kl, const unsigned char *d, size_t n, unsigned char *md, unsigned int *ml),
                   (m, k, kl, d, n, md, ml), NULL)

// AES-GCM.
PAM_PASSKEY_CRYPTO(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void), (), NULL)
PAM_PASSKEY_CRYPTO_VOID(EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX *c), (c))
PAM_PASSKEY_CRYPTO(int, EVP_CIPHER_CTX_ctrl, (EVP_CIPHER_CTX *c, int type, int arg, void *ptr), (c, type, arg, ptr), 0)
PAM_PASSKEY_CRYPTO(const EVP_CIPHER *, EVP_aes_256_gcm, (void), (), NULL)
PAM_PASSKEY_CRYPTO(int, EVP_EncryptInit_ex,
                   (EVP_CIPHER_CTX *c, const EVP_CIPHER *t, ENGINE *e, const unsigned char *k, const unsigned char *iv),
                   (c, t, e, k, iv), 0)
PAM_PASSKEY_CRYPTO(int, EVP_EncryptUpdate, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *i, int il),
                   (c, o, ol, i, il), 0)
PAM_PASSKEY_CRYPTO(int, EVP_EncryptFinal_ex, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol), (c, o, ol), 0)
PAM_PASSKEY_CRYPTO(int, EVP_DecryptInit_ex,
                   (EVP_CIPHER_CTX *c, const EVP_CIPHER *t, ENGINE *e, const unsigned char *k, const unsigned char *iv),
                   (c, t, e, k, iv), 0)
PAM_PASSKEY_CRYPTO(int, EVP_DecryptUpdate, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *i, int il),
                   (c, o, ol, i, il), 0)
PAM_PASSKEY_CRYPTO(int, EVP_DecryptFinal_ex, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol), (c, o, ol), 0)

// Keys: P-256 public and private, signatures.
/// EVP_PKEY_fromdata's selection for a public key (a macro of macros, which Swift does not import).
static inline int pam_passkey_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
PAM_PASSKEY_CRYPTO(int, EVP_PKEY_fromdata_init, (EVP_PKEY_CTX *c), (c), 0)
PAM_PASSKEY_CRYPTO(int, EVP_PKEY_fromdata, (EVP_PKEY_CTX *c, EVP_PKEY **k, int selection, OSSL_PARAM p[]), (c, k, selection, p), 0)
PAM_PASSKEY_CRYPTO(int, i2d_PUBKEY, (const EVP_PKEY *a, unsigned char **pp), (a, pp), 0)
PAM_PASSKEY_CRYPTO(EVP_PKEY *, d2i_AutoPrivateKey, (EVP_PKEY **a, const unsigned char **pp, long length), (a, pp, length), NULL)
PAM_PASSKEY_CRYPTO(int, i2d_PrivateKey, (const EVP_PKEY *a, unsigned char **pp), (a, pp), 0)
PAM_PASSKEY_CRYPTO_VOID(EVP_PKEY_free, (EVP_PKEY *k), (k))
PAM_PASSKEY_CRYPTO(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name, (OSSL_LIB_CTX *l, const char *name, const char *q), (l, name, q), NULL)
PAM_PASSKEY_CRYPTO_VOID(EVP_PKEY_CTX_free, (EVP_PKEY_CTX *c), (c))
PAM_PASSKEY_CRYPTO(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX *c), (c), 0)
PAM_PASSKEY_CRYPTO(int, EVP_PKEY_CTX_set_group_name, (EVP_PKEY_CTX *c, const char *name), (c, name), 0)
PAM_PASSKEY_CRYPTO(int, EVP_PKEY_generate, (EVP_PKEY_CTX *c, EVP_PKEY **k), (c, k), 0)
PAM_PASSKEY_CRYPTO(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)
PAM_PASSKEY_CRYPTO_VOID(EVP_MD_CTX_free, (EVP_MD_CTX *c), (c))
PAM_PASSKEY_CRYPTO(int, EVP_DigestVerifyInit, (EVP_MD_CTX *c, EVP_PKEY_CTX **p, const EVP_MD *t, ENGINE *e, EVP_PKEY *k),
                   (c, p, t, e, k), 0)
// 1 is a valid signature; 0 (and the fallback) is not, a negative value an error.
PAM_PASSKEY_CRYPTO(int, EVP_DigestVerify, (EVP_MD_CTX *c, const unsigned char *s, size_t sl, const unsigned char *m, size_t ml),
                   (c, s, sl, m, ml), 0)
PAM_PASSKEY_CRYPTO(int, EVP_DigestSignInit, (EVP_MD_CTX *c, EVP_PKEY_CTX **p, const EVP_MD *t, ENGINE *e, EVP_PKEY *k),
                   (c, p, t, e, k), 0)
PAM_PASSKEY_CRYPTO(int, EVP_DigestSign, (EVP_MD_CTX *c, unsigned char *s, size_t *sl, const unsigned char *m, size_t ml),
                   (c, s, sl, m, ml), 0)

// scrypt through EVP_KDF.
PAM_PASSKEY_CRYPTO(EVP_KDF *, EVP_KDF_fetch, (OSSL_LIB_CTX *l, const char *a, const char *p), (l, a, p), NULL)
PAM_PASSKEY_CRYPTO_VOID(EVP_KDF_free, (EVP_KDF *k), (k))
PAM_PASSKEY_CRYPTO(EVP_KDF_CTX *, EVP_KDF_CTX_new, (EVP_KDF *k), (k), NULL)
PAM_PASSKEY_CRYPTO_VOID(EVP_KDF_CTX_free, (EVP_KDF_CTX *c), (c))
PAM_PASSKEY_CRYPTO(int, EVP_KDF_derive, (EVP_KDF_CTX *c, unsigned char *k, size_t n, const OSSL_PARAM p[]), (c, k, n, p), 0)
// OSSL_PARAM_construct_* only fill a struct; a failed load is caught by the fetch or the
// context made before them.
PAM_PASSKEY_CRYPTO(OSSL_PARAM, OSSL_PARAM_construct_octet_string, (const char *k, void *b, size_t n), (k, b, n),
                   (OSSL_PARAM){0})
PAM_PASSKEY_CRYPTO(OSSL_PARAM, OSSL_PARAM_construct_utf8_string, (const char *k, char *b, size_t n), (k, b, n), (OSSL_PARAM){0})
PAM_PASSKEY_CRYPTO(OSSL_PARAM, OSSL_PARAM_construct_uint64, (const char *k, uint64_t *b), (k, b), (OSSL_PARAM){0})
PAM_PASSKEY_CRYPTO(OSSL_PARAM, OSSL_PARAM_construct_uint32, (const char *k, uint32_t *b), (k, b), (OSSL_PARAM){0})
PAM_PASSKEY_CRYPTO(OSSL_PARAM, OSSL_PARAM_construct_end, (void), (), (OSSL_PARAM){0})

// X.509, for packed attestation.
PAM_PASSKEY_CRYPTO(X509 *, d2i_X509, (X509 **a, const unsigned char **pp, long length), (a, pp, length), NULL)
PAM_PASSKEY_CRYPTO_VOID(X509_free, (X509 *c), (c))
PAM_PASSKEY_CRYPTO(EVP_PKEY *, X509_get0_pubkey, (const X509 *c), (c), NULL)
PAM_PASSKEY_CRYPTO(long, X509_get_version, (const X509 *c), (c), 0)
PAM_PASSKEY_CRYPTO(int, X509_check_ca, (X509 *c), (c), 0)

#undef PAM_PASSKEY_CRYPTO
#undef PAM_PASSKEY_CRYPTO_VOID
#endif
