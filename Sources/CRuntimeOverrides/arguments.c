// The arguments of the process, for Swift's CommandLine, without the runtime's search.
//
// The static Swift runtime finds argv on Linux from a C++ static constructor
// (CommandLine.cpp's ArgvGrabber) that reads /proc/self/maps with fopen and sscanf to find
// the stack, then walks back from environ: about 170,000 instructions and nine system calls
// at the start of every helper, and at every dlopen of the module into sshd or login, whose
// maps are longer. glibc calls each function of .init_array with (argc, argv, envp), in an
// executable and in a shared object loaded later alike, so they are known for nothing.
// CommandLine.cpp.o defines the getter below and a setter for overrides; the standard library
// (Swift.o) refers only to the getter, so with it defined here the linker leaves that object,
// and its constructor, out of the archive. Should a later runtime refer to the setter too, the
// object would come back and the link fail on two getters, which says what to add.
#include <stddef.h>
#include "pam_passkey_runtime_overrides.h"

static char **arguments;
static int count;
static char *no_arguments[] = {NULL};

static void keep(int argc, char **argv, char **envp) {
    (void)envp;
    if (argv != NULL && argc >= 0) {
        arguments = argv;
        count = argc;
    }
}
__attribute__((section(".init_array"), used)) static void (*const keep_at_start)(int, char **, char **) = keep;

char **pam_passkey_arguments(int *argc) {
    if (arguments == NULL) {
        *argc = 0;
        return no_arguments;
    }
    *argc = count;
    return arguments;
}

// The standard library calls it with Swift's calling convention (SWIFT_CC(swift) in the
// runtime's CommandLine.cpp).
__attribute__((visibility("hidden"), swiftcall)) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    return pam_passkey_arguments(outArgLen);
}
