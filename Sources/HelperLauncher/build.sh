#!/bin/sh
# Builds the setuid launcher (launcher.c):  Sources/HelperLauncher/build.sh OUTPUT [AUTHENTICATOR]
#   OUTPUT         the executable to write
#   AUTHENTICATOR  the absolute path it executes, fixed in the binary
#                  (default /usr/libexec/pam_passkey/pam_passkey_authenticator, where
#                  scripts/install.sh and the .deb put the Swift helper)
# `make build` runs it; the tests run it for launchers that start a helper in a test directory.
#
# Statically linked (static PIE): no dynamic loader runs, so nothing reads the caller's
# environment before main clears it; full RELRO (-z relro -z now), stack protector, fortified
# libc calls, non-executable stack.
set -eu

die() { echo "HelperLauncher/build.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: Sources/HelperLauncher/build.sh OUTPUT [AUTHENTICATOR]"
out=$1
target=${2:-/usr/libexec/pam_passkey/pam_passkey_authenticator}
case "$target" in
    /*) ;;
    *) die "the authenticator path must be absolute, not $target" ;;
esac
case "$target" in
    *[!A-Za-z0-9/._+-]*) die "the authenticator path may hold only letters, digits and / . _ + -, not $target" ;;
esac

${CC:-cc} -std=gnu11 -O2 -Wall -Wextra \
    -fPIE -static-pie \
    -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2 \
    -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack \
    -DPAM_PASSKEY_AUTHENTICATOR="\"$target\"" \
    -o "$out" "$(dirname "$0")/launcher.c"
