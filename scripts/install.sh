#!/bin/sh
# Installs pam_passkey from one build:  scripts/install.sh DESTDIR BUILD_DIR
#   DESTDIR    staging root ("" or "/" for this system), as in `make install DESTDIR=...`
#   BUILD_DIR  where `make build` put the products (.build/release)
#
# Safe to run again: binaries are replaced atomically (a process that has the old module
# loaded keeps its copy), an existing policy file is never touched, and existing state
# directories keep their contents (their modes are only tightened).
# Files are owned by root when run as root; a staging tree built by another user gets its
# owners from `dpkg-deb --root-owner-group`.
#
# Environment: PAM_MODULE_DIR overrides the module directory (default: libpam's libdir
# from pkg-config, plus /security).
set -eu

die() { echo "install.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: scripts/install.sh DESTDIR BUILD_DIR"
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$2" ] || die "build directory $2 does not exist; run \`make build\` first"
BUILD=$(cd "$2" && pwd)
case "$1" in
    ""|/) DEST="" ;;
    *) mkdir -p "$1"; DEST=$(cd "$1" && pwd) ;;
esac

if [ -n "${PAM_MODULE_DIR:-}" ]; then
    MODDIR=$PAM_MODULE_DIR
else
    libdir=$(pkg-config --variable=libdir pam 2>/dev/null) \
        || die "pkg-config does not know libpam; install pkg-config and libpam0g-dev, or set PAM_MODULE_DIR"
    MODDIR=$libdir/security
fi

MODULE=$BUILD/pam_passkey.so
[ -f "$MODULE" ] || MODULE=$BUILD/libpam_passkey.so
for f in "$MODULE" "$BUILD/pam_passkey_helper" "$BUILD/pam_passkey_launcher" "$BUILD/passkeyctl" "$BUILD/pam_passkey_directory" \
         "$BUILD/passkey-docgen"; do
    [ -f "$f" ] || die "$f is missing; run \`make build\` first"
done
# An installed binary must not look for libraries beside itself (sshd and login load the
# module): the Makefile builds with --disable-local-rpath; one with RUNPATH came from elsewhere.
# (passkey-docgen only runs here, from the build.)
if command -v readelf >/dev/null 2>&1; then
    for f in "$MODULE" "$BUILD/pam_passkey_helper" "$BUILD/pam_passkey_launcher" "$BUILD/passkeyctl" "$BUILD/pam_passkey_directory"; do
        if readelf -d "$f" 2>/dev/null | grep -q -E '\((RPATH|RUNPATH)\)'; then
            die "$f has a RUNPATH; build it with make build or make ship (--disable-local-rpath)"
        fi
    done
fi

# The launcher executes the path compiled into it: it must be where the authenticator goes.
LIBEXEC=/usr/libexec/pam_passkey
AUTHENTICATOR=$LIBEXEC/pam_passkey_authenticator
tr '\000' '\n' < "$BUILD/pam_passkey_launcher" | grep -qxF "pam_passkey launcher target=$AUTHENTICATOR" \
    || die "$BUILD/pam_passkey_launcher was not built to start $AUTHENTICATOR; run \`make build\` again"

if [ "$(id -u)" -eq 0 ]; then OWNER="-o root -g root"; else OWNER=""; fi

tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT

# put SOURCE TARGET MODE: copies next to the target, then renames over it. Installing over
# a module that sshd has mapped must not rewrite the mapped file in place.
put() {
    dir=$(dirname "$DEST$2")
    # shellcheck disable=SC2086
    install -d -m 0755 $OWNER "$dir"
    new="$dir/.$(basename "$2").new.$$"
    # shellcheck disable=SC2086
    install -m "$3" $OWNER "$1" "$new"
    mv -f "$new" "$DEST$2"
    echo "  $2"
}

# mkstate DIR MODE TIGHTEN: a state directory, created when missing. An existing one keeps
# its contents and owner; its mode is only ever tightened (chmod TIGHTEN), never widened.
mkstate() {
    if [ -d "$DEST$1" ]; then
        before=$(stat -c '%a' "$DEST$1")
        chmod "$3" "$DEST$1"
        after=$(stat -c '%a' "$DEST$1")
        if [ "$before" != "$after" ]; then
            echo "  $1 (kept; mode tightened from $before to $after)"
        else
            echo "  $1 (kept)"
        fi
        if [ "$(id -u)" -eq 0 ] && [ "$(stat -c '%u' "$DEST$1")" != 0 ]; then
            echo "install.sh: warning: $1 is not owned by root, so the module will not trust it (fix: chown root:root $1)" >&2
        fi
    else
        # shellcheck disable=SC2086
        install -d -m "$2" $OWNER "$DEST$1"
        echo "  $1"
    fi
}

echo "Installing pam_passkey into ${DEST:-/}"
put "$MODULE" "$MODDIR/pam_passkey.so" 0644
# The host authenticator (the Swift helper), not setuid: the launcher starts it. Installed
# first, so that an upgrade never has a launcher without the program it starts.
put "$BUILD/pam_passkey_helper" "$AUTHENTICATOR" 0755
# The launcher, setuid root: screen lockers and other callers that are not root use it. It
# drops their environment and descriptors before any other code runs, then starts the
# authenticator, which serves only the caller's own account (see pam_passkey(8), "The helper").
put "$BUILD/pam_passkey_launcher" "$LIBEXEC/pam_passkey_helper" 4755
put "$BUILD/passkeyctl" /usr/sbin/passkeyctl 0755
# registry = ldap: the one program that loads libldap, started by the module and passkeyctl
# as root with a deadline (never setuid: only root starts it).
put "$BUILD/pam_passkey_directory" "$LIBEXEC/pam_passkey_directory" 0755

"$BUILD/passkey-docgen" fill < "$SRC/man/pam_passkey.conf.5.in" > "$tmpdir/pam_passkey.conf.5"
put "$SRC/man/pam_passkey.8" /usr/share/man/man8/pam_passkey.8 0644
put "$SRC/man/passkeyctl.8" /usr/share/man/man8/passkeyctl.8 0644
put "$tmpdir/pam_passkey.conf.5" /usr/share/man/man5/pam_passkey.conf.5 0644

put "$SRC/Packaging/bash-completion/passkeyctl" /usr/share/bash-completion/completions/passkeyctl 0644

put "$SRC/Packaging/pam-configs/passkey" /usr/share/pam-configs/passkey 0644
put "$SRC/Packaging/pam-configs/passkey-append" /usr/share/pam-configs/passkey-append 0644

# registry = ldap: `passkeyctl sync` every 15 minutes, once an administrator enables the
# timer (systemctl enable --now pam_passkey-sync.timer); the package does not enable it.
for f in pam_passkey-sync.service pam_passkey-sync.timer; do
    put "$SRC/Packaging/systemd/$f" "/lib/systemd/system/$f" 0644 text
done

# The directory schema and access rules, for an administrator to load into OpenLDAP, 389-ds
# or FreeIPA (Packaging/ldap/README says how).
for f in README pam_passkey.ldif pam_passkey-access.ldif 99pam_passkey.ldif; do
    put "$SRC/Packaging/ldap/$f" "/usr/share/pam_passkey/ldap/$f" 0644 text
done

CONF=/etc/security/pam_passkey.conf
if [ -e "$DEST$CONF" ]; then
    echo "  $CONF (kept: an existing policy is never overwritten)"
else
    "$BUILD/passkey-docgen" conf > "$tmpdir/pam_passkey.conf"
    put "$tmpdir/pam_passkey.conf" "$CONF" 0644 text
fi

mkstate /var/lib/pam_passkey 0755 go-w
mkstate /var/lib/pam_passkey/registry 0755 go-w
# Private keys (encrypted under the PIN) and PIN failure counters: root only.
mkstate /var/lib/pam_passkey/host 0700 go-rwx
# registry = ldap: this host's copy of the directory's records (public, like the registry).
mkstate /var/cache/pam_passkey 0755 go-w
mkstate /var/cache/pam_passkey/registry 0755 go-w

if [ -z "$DEST" ]; then
    echo "Installed. Turn it on with: pam-auth-update --enable passkey passkey-append"
fi
