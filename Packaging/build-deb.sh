#!/bin/sh
# Builds the Debian packages from one shipping build (`make ship`, not the tests' build):
#   Packaging/build-deb.sh BUILD_DIR OUTDIR
# writes OUTDIR/libpam-passkey_VERSION_ARCH.deb and OUTDIR/libpam-passkey-dbgsym_VERSION_ARCH.deb
# and prints their paths, the main package's on the last line.
#
# The Swift toolchain is not a Debian package, so there is no debian/rules: the files are
# staged with scripts/install.sh and then treated as debhelper would (dh_strip with its
# -dbgsym package, dh_compress, dh_installchangelogs, dh_lintian, dh_shlibdeps, dh_md5sums,
# dh_builddeb). The control fields are in Packaging/debian/control.
#
# Reproducible: the same build gives byte-identical packages. Every time in them is
# SOURCE_DATE_EPOCH (default: the last commit's time, else the changelog's), files are
# sorted, compressed without names or times, and owned by root.
#
# Environment: DEB_MAINTAINER ("Name <address>") overrides the Maintainer field;
# SOURCE_DATE_EPOCH as above.
set -eu

die() { echo "build-deb.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: Packaging/build-deb.sh BUILD_DIR OUTDIR"
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$1" ] || die "build directory $1 does not exist; run \`make ship\` first"
BUILD=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
DEB=$SRC/Packaging/debian

PACKAGE=libpam-passkey
VERSION=$(tr -d ' \n' < "$SRC/VERSION")
case "$VERSION" in [0-9]*) ;; *) die "VERSION must start with a digit (Debian version rules), got \"$VERSION\"" ;; esac
CHANGELOG_VERSION=$(dpkg-parsechangelog -l "$DEB/changelog" -S Version)
[ "$CHANGELOG_VERSION" = "$VERSION" ] \
    || die "VERSION says $VERSION but Packaging/debian/changelog's last entry is $CHANGELOG_VERSION; add an entry (dch -v $VERSION)"
[ "$("$BUILD/passkeyctl" --version)" = "passkeyctl $VERSION" ] \
    || die "$BUILD/passkeyctl --version does not say $VERSION; update Sources/CLI/Version.swift and run \`make ship\`"
ARCH=$(dpkg --print-architecture)
MAINTAINER=${DEB_MAINTAINER:-$(dpkg-parsechangelog -l "$DEB/changelog" -S Maintainer)}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$SRC" log -1 --format=%ct 2>/dev/null) \
        || SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$DEB/changelog" -S Timestamp)
fi
export SOURCE_DATE_EPOCH
# Nothing that runs below may depend on the builder's locale or umask.
export LC_ALL=C TZ=UTC
umask 022

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
dbg=$work/dbgsym

# The state directories must come out root-owned and 0700/0755 whoever builds.
"$SRC/scripts/install.sh" "$root" "$BUILD" >/dev/null

# As dh_strip: the debugging information goes to /usr/lib/debug/.build-id/NN/REST.debug in
# the -dbgsym package, where gdb and eu-addr2line look it up by the binary's build id; the
# installed binary keeps its build id and a debug link, and loses every other symbol (the
# module keeps its dynamic symbol table, and with it the pam_sm_* exports).
elfs=$(cd "$root" && find . -type f \( -path './lib/*/security/*.so' -o -path './usr/sbin/*' -o -path './usr/libexec/*' \) \
       | sed 's|^\./||' | sort)
build_ids=""
for f in $elfs; do
    id=$(readelf -n "$root/$f" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p')
    [ ${#id} -ge 3 ] || die "$f has no build id; the linker must be given --build-id"
    debug=usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
    install -d -m 0755 "$(dirname "$dbg/$debug")"
    objcopy --only-keep-debug --compress-debug-sections "$root/$f" "$dbg/$debug"
    chmod 0644 "$dbg/$debug"
    mode=$(stat -c '%a' "$root/$f")
    case "$f" in
        *.so) strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/$f" ;;
        *) strip --remove-section=.comment --remove-section=.note "$root/$f" ;;
    esac
    objcopy --add-gnu-debuglink="$dbg/$debug" "$root/$f"
    chmod "$mode" "$root/$f"   # strip and objcopy rewrite the file; keep the launcher's setuid bit
    build_ids="$build_ids${build_ids:+ }$id"
done

# As dh_installdocs, dh_installchangelogs, dh_installman, dh_lintian, dh_compress.
doc=$root/usr/share/doc/$PACKAGE
install -d -m 0755 "$doc"
install -m 0644 "$DEB/copyright" "$doc/copyright"
install -m 0644 "$DEB/changelog" "$doc/changelog"
install -m 0644 "$SRC/README.md" "$doc/README.md"
gzip -9n "$doc/changelog" "$doc/README.md"
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
install -d -m 0755 "$root/usr/share/lintian/overrides"
install -m 0644 "$DEB/lintian-overrides" "$root/usr/share/lintian/overrides/$PACKAGE"
# The -dbgsym package's own doc directory is a link to the main package's, as debhelper makes it.
install -d -m 0755 "$dbg/usr/share/doc"
ln -s "$PACKAGE" "$dbg/usr/share/doc/$PACKAGE-dbgsym"

# Dependencies of the ELF files, with the minimum versions from the libraries' symbols files.
mkdir -p "$work/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" > "$work/shlibs/debian/control"
# shellcheck disable=SC2086
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O $(for e in $elfs; do printf ' -e %s' "$root/$e"; done) 2>/dev/null) \
    || die "dpkg-shlibdeps failed (is dpkg-dev installed?)"
DEPENDS=${shlibs#shlibs:Depends=}
case "$DEPENDS" in
    *libpam0g*) ;;
    *) die "dpkg-shlibdeps found no libpam0g dependency in \"$DEPENDS\"; is the module linked against libpam?" ;;
esac
# libcrypto is opened on first use by its absolute path (Sources/CLibcryptoLoader), by the
# module and by the helper alike, so no binary links it and dpkg-shlibdeps cannot see it, as
# with the TPM libraries and libfido2 below. Unlike them it is needed for every passkey login
# (without it one fails closed), so it is a dependency, named here: the package that holds
# that file, at the version its symbols file gives the newest of the symbols the wrappers in
# Sources/CLibcrypto/shim.h and the helper's allocator hook look up (what dpkg-shlibdeps
# would have said had something linked them).
case "$DEPENDS" in
    *libssl3*) die "dpkg-shlibdeps found libssl3 in \"$DEPENDS\": something links libcrypto again (Package.swift)" ;;
esac
libcrypto=$(sed -n 's/^#define PAM_PASSKEY_LIBCRYPTO_PATH "\(.*\)"$/\1/p' "$SRC/Sources/CLibcryptoLoader/include/pam_passkey_crypto_loader.h" \
    | grep "/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/")
[ -n "$libcrypto" ] || die "no libcrypto path for $(dpkg-architecture -qDEB_HOST_MULTIARCH) in Sources/CLibcryptoLoader"
libssl=$(dpkg -S "$libcrypto" | head -n1 | cut -d: -f1)
[ -n "$libssl" ] || die "no package holds $libcrypto"
symbols=$( { sed -n 's/^PAM_PASSKEY_CRYPTO([^,]*, *\([A-Za-z0-9_]*\),.*/\1/p; s/^PAM_PASSKEY_CRYPTO_VOID(\([A-Za-z0-9_]*\),.*/\1/p' \
    "$SRC/Sources/CLibcrypto/shim.h"; echo CRYPTO_set_mem_functions; } | sort -u)
[ "$(echo "$symbols" | wc -l)" -gt 40 ] || die "found only $(echo "$symbols" | wc -l) libcrypto symbols in Sources/CLibcrypto/shim.h"
minver=0
for symbol in $symbols; do
    v=$(awk -v s="$symbol" 'index($1, s "@") == 1 { print $2; exit }' "$(dpkg-query --control-path "$libssl" symbols)")
    [ -n "$v" ] || die "$symbol is not in $libssl's symbols file"
    if dpkg --compare-versions "$v" gt "$minver"; then minver=$v; fi
done
DEPENDS="$DEPENDS, $libssl (>= $minver)"

# The TPM backend opens its libraries when it first uses a TPM (Sources/CTSS2/shim.h names
# them), so dpkg-shlibdeps cannot see them: they are recommended, found by the packages that
# hold those sonames. A host on the software backend needs none of them.
RECOMMENDS=$(grep -o '"libtss2-[a-z]*\.so\.[0-9]*"' "$SRC/Sources/CTSS2/shim.h" | tr -d '"' | sort -u \
    | while read -r soname; do dpkg -S "*/$soname" | head -n1 | cut -d: -f1; done | sort -u | paste -sd, | sed 's/,/, /g')
[ -n "$RECOMMENDS" ] || die "no TPM library package found for the sonames in Sources/CTSS2/shim.h"
# ldap_bind = gssapi: libldap loads Cyrus SASL's GSSAPI plugin at the bind, a file no binary
# links; recommended, found by the package that holds it. Other binds do not need it.
gssapi=$(dpkg -S '*/sasl2/libgssapiv2.so.2' 2>/dev/null | head -n1 | cut -d: -f1)
[ -n "$gssapi" ] || die "Cyrus SASL's GSSAPI plugin (libgssapiv2.so.2) is not installed: apt install libsasl2-modules-gssapi-mit"
RECOMMENDS="$RECOMMENDS, $gssapi"

# control FILE TREE: DEBIAN/control of TREE from the template FILE.
control() {
    size=$(du -k -s --apparent-size --exclude=DEBIAN "$2" | cut -f1)
    mkdir -p "$2/DEBIAN"
    sed -e "s|@VERSION@|$VERSION|g" -e "s|@ARCH@|$ARCH|g" -e "s|@MAINTAINER@|$MAINTAINER|g" \
        -e "s|@INSTALLED_SIZE@|$size|g" -e "s|@DEPENDS@|$DEPENDS|g" -e "s|@RECOMMENDS@|$RECOMMENDS|g" -e "s|@BUILD_IDS@|$build_ids|g" \
        "$1" > "$2/DEBIAN/control"
}

# finish TREE NAME: md5sums, times clamped to SOURCE_DATE_EPOCH, the package written.
finish() {
    (cd "$1" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) \
        > "$1/DEBIAN/md5sums"
    chmod 0644 "$1/DEBIAN/control" "$1/DEBIAN/md5sums"
    [ ! -f "$1/DEBIAN/conffiles" ] || chmod 0644 "$1/DEBIAN/conffiles"
    find "$1" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
    dpkg-deb --root-owner-group -Zxz --build "$1" "$OUT/$2" >/dev/null
    echo "$OUT/$2"
}

control "$DEB/control" "$root"
echo /etc/security/pam_passkey.conf > "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$DEB/$script" "$root/DEBIAN/$script"
done
control "$DEB/control.dbgsym" "$dbg"

finish "$dbg" "${PACKAGE}-dbgsym_${VERSION}_${ARCH}.deb"
finish "$root" "${PACKAGE}_${VERSION}_${ARCH}.deb"
