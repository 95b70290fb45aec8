#!/bin/sh
# Builds libpam-passkey_VERSION_ARCH.deb from one build:  Packaging/build-deb.sh BUILD_DIR OUTDIR
# Prints the path of the package on its last line.
#
# The Swift toolchain is not a Debian package, so there is no debian/rules: the files are
# staged with scripts/install.sh, stripped and compressed as debhelper would, and packed
# with dpkg-deb. Library dependencies come from dpkg-shlibdeps, like any Debian package's.
#
# Environment: DEB_MAINTAINER ("Name <address>") overrides the Maintainer field.
set -eu

die() { echo "build-deb.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: Packaging/build-deb.sh BUILD_DIR OUTDIR"
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$1" ] || die "build directory $1 does not exist; run \`make build\` first"
BUILD=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)

PACKAGE=libpam-passkey
VERSION=$(tr -d ' \n' < "$SRC/VERSION")
case "$VERSION" in [0-9]*) ;; *) die "VERSION must start with a digit (Debian version rules), got \"$VERSION\"" ;; esac
ARCH=$(dpkg --print-architecture)
MAINTAINER=${DEB_MAINTAINER:-pam_passkey maintainers <pam-passkey@localhost>}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

# The state directories must come out root-owned and 0700/0755 whoever builds.
"$SRC/scripts/install.sh" "$root" "$BUILD" >/dev/null

# As dh_strip: no debugging symbols in the installed binaries (the dynamic symbol table,
# and with it the module's pam_sm_* exports, stays).
find "$root" -type f \( -name '*.so' -o -path '*/usr/sbin/*' -o -path '*/usr/libexec/*' \) | while read -r f; do
    mode=$(stat -c '%a' "$f")
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
    chmod "$mode" "$f"   # strip rewrites the file; keep the launcher's setuid bit
done

# As dh_installman / dh_installdocs: compressed, reproducible.
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
doc=$root/usr/share/doc/$PACKAGE
install -d -m 0755 "$doc"
install -m 0644 "$SRC/README.md" "$doc/README.md"
gzip -9n "$doc/README.md"

# Dependencies of the ELF files, with the minimum versions from the libraries' symbols files.
mkdir -p "$work/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" > "$work/shlibs/debian/control"
elfs=$(find "$root" -type f \( -name '*.so' -o -path '*/usr/sbin/*' -o -path '*/usr/libexec/*' \))
# shellcheck disable=SC2086
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O $(for e in $elfs; do printf ' -e %s' "$e"; done) 2>/dev/null) \
    || die "dpkg-shlibdeps failed (is dpkg-dev installed?)"
DEPENDS=${shlibs#shlibs:Depends=}
case "$DEPENDS" in
    *libpam0g*) ;;
    *) die "dpkg-shlibdeps found no libpam0g dependency in \"$DEPENDS\"; is the module linked against libpam?" ;;
esac
# pam-auth-update (postinst, prerm) is in libpam-runtime.
DEPENDS="$DEPENDS, libpam-runtime (>= 1.0.1-6)"

SIZE=$(du -k -s --apparent-size "$root" | cut -f1)

mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<EOF
Package: $PACKAGE
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE
Depends: $DEPENDS
Section: admin
Priority: optional
Description: PAM module for passkey login with a PIN, bound to this computer
 pam_passkey signs users in with a passkey held by this computer's own
 authenticator (a TPM, or a software authenticator in a root-only
 directory) and unlocked by a PIN. Before it asks for one, it predicts
 whether one of the user's passkeys can work on this host; when none can,
 it steps aside, the password module asks for the password, and afterwards
 it offers to create a passkey for this host.
 .
 The package enables two pam-auth-update profiles: "passkey" (the passkey
 login, before pam_unix) and "passkey-append" (the offer, after the
 password). It includes passkeyctl, the administrator's tool, and the
 helper that holds the private keys, started through a small setuid
 launcher that clears the caller's environment first.
EOF
echo /etc/security/pam_passkey.conf > "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$SRC/Packaging/debian/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort \
    | xargs md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

deb=$OUT/${PACKAGE}_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
