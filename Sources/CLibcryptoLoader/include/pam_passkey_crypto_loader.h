// The one place libcrypto is opened (Sources/CLibcrypto/shim.h's wrappers all come here).
//
// shim.h's wrappers are `static inline` with `static` locals: every object file that uses
// them has its own copies. The handle, the note of why the library could not be loaded, and
// the "on first open" hook must be one for the whole program, so they live in one real C
// translation unit, loader.c, which SwiftPM compiles once and links into whatever uses
// Sources/Crypto. pam_passkey.so links it too but exports none of it (exports.map keeps
// everything but pam_sm_* local), and never registers a hook: the allocator belongs to the
// process, and the module runs in someone else's.
#ifndef PAM_PASSKEY_CRYPTO_LOADER_H
#define PAM_PASSKEY_CRYPTO_LOADER_H

#include <dlfcn.h>
#include <stddef.h>
#include <openssl/crypto.h>

// One absolute path, fixed when this is compiled (Debian's multiarch directory for the
// target), never a bare soname: see shim.h.
#if defined(__x86_64__) && defined(__LP64__)
#define PAM_PASSKEY_LIBCRYPTO_PATH "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"
#elif defined(__aarch64__) && defined(__LP64__)
#define PAM_PASSKEY_LIBCRYPTO_PATH "/usr/lib/aarch64-linux-gnu/libcrypto.so.3"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define PAM_PASSKEY_LIBCRYPTO_PATH "/usr/lib/powerpc64le-linux-gnu/libcrypto.so.3"
#elif defined(__s390x__)
#define PAM_PASSKEY_LIBCRYPTO_PATH "/usr/lib/s390x-linux-gnu/libcrypto.so.3"
#elif defined(__riscv) && __riscv_xlen == 64
#define PAM_PASSKEY_LIBCRYPTO_PATH "/usr/lib/riscv64-linux-gnu/libcrypto.so.3"
#else
#error "Sources/CLibcryptoLoader: add this architecture's Debian multiarch path of libcrypto.so.3"
#endif

/// The library's handle, dlopened (RTLD_NOW, RTLD_LOCAL) the first time; NULL when it cannot
/// be loaded (tried again on the next call: a library installed meanwhile is found). The
/// hook, if one was registered, runs once, right after the dlopen that succeeded and before
/// this returns the handle to anyone.
void *pam_passkey_crypto_handle(void);

/// Why libcrypto (or one of its symbols) could not be loaded, in dlerror's words; NULL when
/// nothing failed.
const char *pam_passkey_crypto_problem(void);

/// Records why (dlerror's text, or `fallback` when that is NULL), for pam_passkey_crypto_problem.
void pam_passkey_crypto_note_problem(const char *why, const char *fallback);

/// Called with the dlopen handle, once, before any other libcrypto call of this program.
typedef void (*pam_passkey_crypto_open_hook)(void *handle);

/// Registers the hook (a program's own, never a library's: only the helper does). Returns 1;
/// 0, changing nothing, when libcrypto was already opened through pam_passkey_crypto_handle
/// (too late for the hook) or a hook is already registered.
int pam_passkey_crypto_on_first_open(pam_passkey_crypto_open_hook hook);

/// CRYPTO_set_mem_functions of the library `handle`, looked up by dlsym and typed by the
/// header's own declaration; 0 (what the function returns when it is too late) when the
/// symbol is missing. For an on-first-open hook.
static inline int pam_passkey_crypto_set_mem_functions(void *handle, CRYPTO_malloc_fn allocate,
                                                       CRYPTO_realloc_fn reallocate, CRYPTO_free_fn release) {
    if (handle == NULL) return 0;
    __typeof__(&CRYPTO_set_mem_functions) set =
        (__typeof__(&CRYPTO_set_mem_functions))dlsym(handle, "CRYPTO_set_mem_functions");
    if (set == NULL) {
        pam_passkey_crypto_note_problem(dlerror(), "CRYPTO_set_mem_functions");
        return 0;
    }
    return set(allocate, reallocate, release);
}

#endif
