// See include/pam_passkey_runtime_overrides.h.
//
// The static Swift runtime (the standard library's Swift.o and the Glibc overlay) refers to
// about a hundred of libm's functions. Left to the linker, those references put libm in the
// module's DT_NEEDED, and every sshd session, login and su that loads the module loads libm
// (about 390 kB resident, 0.2 ms of a fresh process: its IFUNC resolvers run at load time)
// for functions a login does not call. Here each one is defined with hidden visibility, so
// the runtime's references bind to it when the module (or a shipped executable) is linked,
// and -lm is taken only as needed (scripts/link/libm.so): a forwarder that opens libm on its
// first call and then calls libm's function. The one a login does call, ceil (the standard
// library sizes a Dictionary's storage with it), is computed here, exactly, with the rest of
// its family (floor, trunc, round, rint, nearbyint, in double and float).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gnu/lib-names.h>
#include <math.h>
#include <stdlib.h>
#include "pam_passkey_runtime_overrides.h"

#define HIDDEN __attribute__((visibility("hidden")))

static void *libm;

int pam_passkey_libm_opened(void) { return __atomic_load_n(&libm, __ATOMIC_ACQUIRE) != NULL; }

// The rounding family, computed here, bit for bit as glibc's (RuntimeOverridesTests
// compares every one with libm's over random bit patterns): the standard library calls them
// for its own arithmetic (Dictionary sizing calls ceil in every login; rounded() and the
// integer conversions call the others), so a process that cannot open libm (out of file
// descriptors) still gets an answer from them, rather than stopping in resolve() below.
// Only |x| < 2^52 (2^23 for float) can have a fraction; the integer conversion truncates
// toward zero exactly in that range, and copysign keeps the sign of a zero result (ceil(-0.5)
// is -0.0).
#define ROUNDING(T, SUFFIX, LIMIT, TWO_TO_MANTISSA) \
    T pam_passkey_trunc##SUFFIX(T x) { \
        if (x != x) return x + x;               /* NaN: quieted, as libm does */ \
        if (!(__builtin_fabs(x) < LIMIT)) return x;  /* infinities, and every integer */ \
        return __builtin_copysign((T)(long long)x, x); \
    } \
    T pam_passkey_ceil##SUFFIX(T x) { \
        T t = pam_passkey_trunc##SUFFIX(x); \
        if (t != x && x == x && t < x) t += 1; \
        return __builtin_copysign(t, x); \
    } \
    T pam_passkey_floor##SUFFIX(T x) { \
        T t = pam_passkey_trunc##SUFFIX(x); \
        if (t != x && x == x && t > x) t -= 1; \
        return __builtin_copysign(t, x); \
    } \
    /* Halfway cases away from zero; x - t is exact, both being within one binade. */ \
    T pam_passkey_round##SUFFIX(T x) { \
        T t = pam_passkey_trunc##SUFFIX(x); \
        if (t != x && x == x && __builtin_fabs(x - t) >= (T)0.5) t += __builtin_copysign((T)1, x); \
        return __builtin_copysign(t, x); \
    } \
    /* In the current rounding mode, as libm's: adding and removing 2^52 (2^23) leaves no \
       fraction, rounded as the mode says. volatile keeps the compiler from folding it. */ \
    T pam_passkey_rint##SUFFIX(T x) { \
        if (x != x) return x + x; \
        if (!(__builtin_fabs(x) < LIMIT)) return x; \
        volatile T big = TWO_TO_MANTISSA; \
        T r = x >= 0 ? (x + big) - big : (x - big) + big; \
        return __builtin_copysign(r, x); \
    }
ROUNDING(double, , 0x1p52, 0x1p52)
ROUNDING(float, f, 0x1p23f, 0x1p23f)

// The names the runtime binds to. nearbyint is rint without the inexact exception; nothing
// here reads exception flags.
#define LOCAL(T, SUFFIX) \
    HIDDEN T ceil##SUFFIX(T x) { return pam_passkey_ceil##SUFFIX(x); } \
    HIDDEN T floor##SUFFIX(T x) { return pam_passkey_floor##SUFFIX(x); } \
    HIDDEN T trunc##SUFFIX(T x) { return pam_passkey_trunc##SUFFIX(x); } \
    HIDDEN T round##SUFFIX(T x) { return pam_passkey_round##SUFFIX(x); } \
    HIDDEN T rint##SUFFIX(T x) { return pam_passkey_rint##SUFFIX(x); } \
    HIDDEN T nearbyint##SUFFIX(T x) { return pam_passkey_rint##SUFFIX(x); }
LOCAL(double, )
LOCAL(float, f)

// libm is part of glibc's own package (libc6), beside libc.so.6: a system that runs this
// code can open it, unless the process is out of file descriptors or memory. Then no answer
// the caller could use exists; stop, as the dynamic loader would have stopped at load time
// with libm in DT_NEEDED. Only the functions below come here, and neither the module's nor
// the helper's code calls one (the whole integration suite called none: issue 17).
static void *resolve(const char *name, void **slot) {
    void *handle = __atomic_load_n(&libm, __ATOMIC_ACQUIRE);
    if (handle == NULL) {
        handle = dlopen(LIBM_SO, RTLD_NOW | RTLD_LOCAL);
        if (handle == NULL) abort();
        __atomic_store_n(&libm, handle, __ATOMIC_RELEASE);
    }
    void *function = dlsym(handle, name);
    if (function == NULL) abort();
    __atomic_store_n(slot, function, __ATOMIC_RELEASE);
    return function;
}

// One forwarder: a slot for libm's function, filled on the first call. __typeof__ takes
// the prototype from <math.h>, so a forwarder whose parameters differ does not compile.
#define SLOT(name) \
    static __typeof__(&name) slot_##name; \
    __attribute__((always_inline)) static inline __typeof__(&name) get_##name(void) { \
        __typeof__(&name) f = __atomic_load_n(&slot_##name, __ATOMIC_ACQUIRE); \
        return f != NULL ? f : (__typeof__(&name))resolve(#name, (void **)&slot_##name); \
    }
#define UNARY(T, name) SLOT(name) HIDDEN T name(T x) { return get_##name()(x); }
#define BINARY(T, name) SLOT(name) HIDDEN T name(T x, T y) { return get_##name()(x, y); }
#define TERNARY(T, name) SLOT(name) HIDDEN T name(T x, T y, T z) { return get_##name()(x, y, z); }
#define REMQUO(T, name) SLOT(name) HIDDEN T name(T x, T y, int *q) { return get_##name()(x, y, q); }
#define LGAMMA_R(T, name) SLOT(name) HIDDEN T name(T x, int *sign) { return get_##name()(x, sign); }
#define NAN_(T, name) SLOT(name) HIDDEN T name(const char *tag) { return get_##name()(tag); }
#define BESSEL(name) SLOT(name) HIDDEN double name(int n, double x) { return get_##name()(n, x); }
// Each name in double, float and long double.
#define ALL3(KIND, name) KIND(double, name) KIND(float, name##f) KIND(long double, name##l)

// The families of the 107 functions the runtime of Swift 6.3 refers to (`nm -u` of the module
// before this file), each in all three widths: a superset, so that a name a later toolchain
// adds within a family is covered. One outside these is not lost either: -lm then stays in
// DT_NEEDED, which test_module_abi.py reports.
ALL3(UNARY, acos) ALL3(UNARY, asin) ALL3(UNARY, atan) ALL3(UNARY, acosh) ALL3(UNARY, asinh)
ALL3(UNARY, atanh) ALL3(UNARY, cbrt) ALL3(UNARY, cos) ALL3(UNARY, cosh) ALL3(UNARY, erf)
ALL3(UNARY, erfc) ALL3(UNARY, exp) ALL3(UNARY, exp2) ALL3(UNARY, expm1)
ALL3(UNARY, log) ALL3(UNARY, log10) ALL3(UNARY, log1p) ALL3(UNARY, log2) ALL3(UNARY, logb)
ALL3(UNARY, sin) ALL3(UNARY, sinh)
ALL3(UNARY, sqrt) ALL3(UNARY, tan) ALL3(UNARY, tanh) ALL3(UNARY, tgamma)
// The rounding family in long double (x87) still forwards; double and float are above.
UNARY(long double, ceill) UNARY(long double, floorl) UNARY(long double, truncl)
UNARY(long double, roundl) UNARY(long double, rintl) UNARY(long double, nearbyintl)
ALL3(BINARY, atan2) ALL3(BINARY, fdim) ALL3(BINARY, fmax) ALL3(BINARY, fmin) ALL3(BINARY, fmod)
ALL3(BINARY, hypot) ALL3(BINARY, nextafter) ALL3(BINARY, pow) ALL3(BINARY, remainder)
ALL3(TERNARY, fma) ALL3(REMQUO, remquo) ALL3(NAN_, nan)
LGAMMA_R(double, lgamma_r) LGAMMA_R(float, lgammaf_r) LGAMMA_R(long double, lgammal_r)
BESSEL(jn) BESSEL(yn)
