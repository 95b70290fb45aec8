// What the static Swift runtime would otherwise bring to every process the module is loaded
// into, and to every helper: libm (libm.c) and a search of /proc/self/maps for the
// arguments (arguments.c). The definitions in these files satisfy the runtime's references
// when pam_passkey.so and pam_passkey_helper are linked; the product's Swift code calls
// nothing here. Both are measured in docs/ARCHITECTURE.md ("Weight, fourth round").
#ifndef PAM_PASSKEY_RUNTIME_OVERRIDES_H
#define PAM_PASSKEY_RUNTIME_OVERRIDES_H

// 1 once a math forwarder has opened libm in this process (for the tests).
int pam_passkey_libm_opened(void);

// ceil, computed without libm, bit for bit as glibc's (the tests compare them).
double pam_passkey_ceil(double x);

// The process's arguments as glibc passed them to .init_array (what CommandLine.arguments
// is made from); never NULL.
char **pam_passkey_arguments(int *argc);

#endif
