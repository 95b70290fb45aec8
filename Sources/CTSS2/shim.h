// libtss2 from Debian's libtss2-dev: the enhanced system API, the TCTI loader (the policy's
// `tcti =` string picks the transport), marshalling of key blobs, response-code text.
//
// Loaded on first use, not linked: the helper runs on every login, and with `authenticator
// = software` (or no TPM) it never makes a TPM call, so it should not pay for mapping and
// relocating five libraries at each start. The headers give the types; every function the
// Swift code calls goes through a `pam_passkey_` wrapper below, which dlopens the library
// the first time and then calls through the pointer dlsym gave (its type is the header's
// own, by __typeof__, so a wrong signature does not compile). When a library cannot be
// loaded the wrappers return PAM_PASSKEY_TSS2_RC_NO_LIBRARY (a TCTI-layer code, never the
// TPM's "wrong authorization") and `pam_passkey_tss2_problem` says why.
#ifndef PAM_PASSKEY_CTSS2_H
#define PAM_PASSKEY_CTSS2_H

#include <dlfcn.h>
#include <stddef.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include "../CLibcryptoLoader/include/pam_passkey_crypto_loader.h"

/// What the wrappers return when the library is not there: "not implemented", TCTI layer.
#define PAM_PASSKEY_TSS2_RC_NO_LIBRARY ((TSS2_RC)(TSS2_TCTI_RC_LAYER | TSS2_BASE_RC_NOT_IMPLEMENTED))
static inline TSS2_RC pam_passkey_tss2_rc_no_library(void) { return PAM_PASSKEY_TSS2_RC_NO_LIBRARY; }

enum pam_passkey_tss2_library { PAM_PASSKEY_TSS2_ESYS, PAM_PASSKEY_TSS2_TCTILDR, PAM_PASSKEY_TSS2_MU, PAM_PASSKEY_TSS2_RC };

/// The last library or symbol that could not be loaded, in dlerror's words (copied: the
/// next dlerror call, libtss2-tctildr's own included, reuses its buffer); "" when none failed.
static inline char *pam_passkey_tss2_problem_buffer(void) {
    static char problem[256];
    return problem;
}

static inline const char *pam_passkey_tss2_problem(void) {
    const char *p = pam_passkey_tss2_problem_buffer();
    return p[0] != '\0' ? p : NULL;
}

static inline void pam_passkey_tss2_note_problem(const char *why, const char *fallback) {
    const char *text = why != NULL ? why : fallback;
    char *out = pam_passkey_tss2_problem_buffer();
    size_t i = 0;
    for (; text[i] != '\0' && i < 255; i++) out[i] = text[i];
    out[i] = '\0';
}

/// The symbol `name` of `library`, dlopening it (once) by its soname: the helper runs with
/// a clean environment (no LD_LIBRARY_PATH), so this is the system's library.
static inline void *pam_passkey_tss2_symbol(enum pam_passkey_tss2_library library, const char *name) {
    static void *handles[4];
    static const char *const sonames[4] = {
        "libtss2-esys.so.0", "libtss2-tctildr.so.0", "libtss2-mu.so.0", "libtss2-rc.so.0",
    };
    if (handles[library] == NULL) {
        // libtss2-esys links libcrypto: open it through the loader first, so the helper's
        // allocator hook runs before the TPM library can make OpenSSL allocate (a failure is
        // the TPM library's own to report, below).
        (void)pam_passkey_crypto_handle();
        handles[library] = dlopen(sonames[library], RTLD_NOW | RTLD_LOCAL);
        if (handles[library] == NULL) {
            pam_passkey_tss2_note_problem(dlerror(), sonames[library]);
            return NULL;
        }
    }
    void *symbol = dlsym(handles[library], name);
    if (symbol == NULL) pam_passkey_tss2_note_problem(dlerror(), name);
    return symbol;
}

#define PAM_PASSKEY_TSS2_POINTER(library, name)                                             \
    static __typeof__(&name) f;                                                             \
    if (f == NULL) f = (__typeof__(&name))pam_passkey_tss2_symbol(library, #name)

/// A wrapper returning TSS2_RC.
#define PAM_PASSKEY_TSS2_CALL(library, name, parameters, arguments)                         \
    static inline TSS2_RC pam_passkey_##name parameters {                                   \
        PAM_PASSKEY_TSS2_POINTER(library, name);                                            \
        return f != NULL ? f arguments : PAM_PASSKEY_TSS2_RC_NO_LIBRARY;                    \
    }

/// A wrapper of a function that returns nothing (it frees what a successful call made, so
/// the library is there whenever it has work to do).
#define PAM_PASSKEY_TSS2_VOID(library, name, parameters, arguments)                         \
    static inline void pam_passkey_##name parameters {                                      \
        PAM_PASSKEY_TSS2_POINTER(library, name);                                            \
        if (f != NULL) f arguments;                                                         \
    }

#define E PAM_PASSKEY_TSS2_ESYS
PAM_PASSKEY_TSS2_CALL(E, Esys_Initialize, (ESYS_CONTEXT **c, TSS2_TCTI_CONTEXT *t, TSS2_ABI_VERSION *v), (c, t, v))
PAM_PASSKEY_TSS2_VOID(E, Esys_Finalize, (ESYS_CONTEXT **c), (c))
PAM_PASSKEY_TSS2_VOID(E, Esys_Free, (void *p), (p))
PAM_PASSKEY_TSS2_CALL(E, Esys_FlushContext, (ESYS_CONTEXT *c, ESYS_TR h), (c, h))
PAM_PASSKEY_TSS2_CALL(E, Esys_TR_SetAuth, (ESYS_CONTEXT *c, ESYS_TR h, TPM2B_AUTH const *a), (c, h, a))
PAM_PASSKEY_TSS2_CALL(E, Esys_TRSess_SetAttributes, (ESYS_CONTEXT *c, ESYS_TR s, TPMA_SESSION f_, TPMA_SESSION m),
                      (c, s, f_, m))
PAM_PASSKEY_TSS2_CALL(E, Esys_StartAuthSession,
                      (ESYS_CONTEXT *c, ESYS_TR key, ESYS_TR bind, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                       const TPM2B_NONCE *nonce, TPM2_SE type, const TPMT_SYM_DEF *sym, TPMI_ALG_HASH hash, ESYS_TR *out),
                      (c, key, bind, s1, s2, s3, nonce, type, sym, hash, out))
PAM_PASSKEY_TSS2_CALL(E, Esys_CreatePrimary,
                      (ESYS_CONTEXT *c, ESYS_TR primary, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                       const TPM2B_SENSITIVE_CREATE *sensitive, const TPM2B_PUBLIC *pub, const TPM2B_DATA *outside,
                       const TPML_PCR_SELECTION *pcr, ESYS_TR *object, TPM2B_PUBLIC **outPublic,
                       TPM2B_CREATION_DATA **creationData, TPM2B_DIGEST **creationHash, TPMT_TK_CREATION **ticket),
                      (c, primary, s1, s2, s3, sensitive, pub, outside, pcr, object, outPublic, creationData, creationHash, ticket))
PAM_PASSKEY_TSS2_CALL(E, Esys_Create,
                      (ESYS_CONTEXT *c, ESYS_TR parent, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                       const TPM2B_SENSITIVE_CREATE *sensitive, const TPM2B_PUBLIC *pub, const TPM2B_DATA *outside,
                       const TPML_PCR_SELECTION *pcr, TPM2B_PRIVATE **outPrivate, TPM2B_PUBLIC **outPublic,
                       TPM2B_CREATION_DATA **creationData, TPM2B_DIGEST **creationHash, TPMT_TK_CREATION **ticket),
                      (c, parent, s1, s2, s3, sensitive, pub, outside, pcr, outPrivate, outPublic, creationData, creationHash, ticket))
PAM_PASSKEY_TSS2_CALL(E, Esys_Load,
                      (ESYS_CONTEXT *c, ESYS_TR parent, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                       const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub, ESYS_TR *object),
                      (c, parent, s1, s2, s3, priv, pub, object))
PAM_PASSKEY_TSS2_CALL(E, Esys_Sign,
                      (ESYS_CONTEXT *c, ESYS_TR key, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, const TPM2B_DIGEST *digest,
                       const TPMT_SIG_SCHEME *scheme, const TPMT_TK_HASHCHECK *validation, TPMT_SIGNATURE **signature),
                      (c, key, s1, s2, s3, digest, scheme, validation, signature))
PAM_PASSKEY_TSS2_CALL(E, Esys_GetCapability,
                      (ESYS_CONTEXT *c, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, TPM2_CAP capability, UINT32 property,
                       UINT32 count, TPMI_YES_NO *more, TPMS_CAPABILITY_DATA **data),
                      (c, s1, s2, s3, capability, property, count, more, data))
#undef E

PAM_PASSKEY_TSS2_CALL(PAM_PASSKEY_TSS2_TCTILDR, Tss2_TctiLdr_Initialize, (const char *conf, TSS2_TCTI_CONTEXT **t), (conf, t))
PAM_PASSKEY_TSS2_VOID(PAM_PASSKEY_TSS2_TCTILDR, Tss2_TctiLdr_Finalize, (TSS2_TCTI_CONTEXT **t), (t))

PAM_PASSKEY_TSS2_CALL(PAM_PASSKEY_TSS2_MU, Tss2_MU_TPM2B_PRIVATE_Marshal,
                      (TPM2B_PRIVATE const *src, uint8_t buffer[], size_t size, size_t *offset), (src, buffer, size, offset))
PAM_PASSKEY_TSS2_CALL(PAM_PASSKEY_TSS2_MU, Tss2_MU_TPM2B_PRIVATE_Unmarshal,
                      (uint8_t const buffer[], size_t size, size_t *offset, TPM2B_PRIVATE *dest), (buffer, size, offset, dest))
PAM_PASSKEY_TSS2_CALL(PAM_PASSKEY_TSS2_MU, Tss2_MU_TPM2B_PUBLIC_Marshal,
                      (TPM2B_PUBLIC const *src, uint8_t buffer[], size_t size, size_t *offset), (src, buffer, size, offset))
PAM_PASSKEY_TSS2_CALL(PAM_PASSKEY_TSS2_MU, Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                      (uint8_t const buffer[], size_t size, size_t *offset, TPM2B_PUBLIC *dest), (buffer, size, offset, dest))

/// The text for a response code, or NULL (also when libtss2-rc is not there).
static inline const char *pam_passkey_Tss2_RC_Decode(TSS2_RC rc) {
    PAM_PASSKEY_TSS2_POINTER(PAM_PASSKEY_TSS2_RC, Tss2_RC_Decode);
    return f != NULL ? f(rc) : NULL;
}

#undef PAM_PASSKEY_TSS2_CALL
#undef PAM_PASSKEY_TSS2_VOID
#undef PAM_PASSKEY_TSS2_POINTER
#endif
