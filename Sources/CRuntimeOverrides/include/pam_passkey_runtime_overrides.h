// What the static Swift runtime would otherwise bring to every process the module is loaded
// into, and to every helper: libm (libm.c) and a search of /proc/self/maps for the
// arguments (arguments.c). The definitions in these files satisfy the runtime's references
// when pam_passkey.so and pam_passkey_helper are linked; the product's Swift code calls
// nothing here. Both are measured in docs/ARCHITECTURE.md ("Weight, fourth round").
#ifndef PAM_PASSKEY_RUNTIME_OVERRIDES_H
#define PAM_PASSKEY_RUNTIME_OVERRIDES_H

// 1 once a math forwarder has opened libm in this process (for the tests).
int pam_passkey_libm_opened(void);

// The rounding family, computed without libm, bit for bit as glibc's (the tests compare
// them); nearbyint and nearbyintf are rint and rintf.
double pam_passkey_ceil(double x);
double pam_passkey_floor(double x);
double pam_passkey_trunc(double x);
double pam_passkey_round(double x);
double pam_passkey_rint(double x);
float pam_passkey_ceilf(float x);
float pam_passkey_floorf(float x);
float pam_passkey_truncf(float x);
float pam_passkey_roundf(float x);
float pam_passkey_rintf(float x);

// The process's arguments as glibc passed them to .init_array (what CommandLine.arguments
// is made from); never NULL.
char **pam_passkey_arguments(int *argc);

#endif
