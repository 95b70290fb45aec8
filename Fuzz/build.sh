#!/bin/sh
# Builds one libFuzzer target, Fuzz/build/TARGET.
#
# A Swift harness, Fuzz/targets/TARGET.swift, is linked with the library modules the parsers
# live in (those Intelligence, Authenticator and PAMStack need, read from Package.swift), all
# instrumented with -sanitize=fuzzer,address.
# SwiftPM cannot build sanitizer-instrumented fuzz targets, so the modules are compiled here
# in dependency order with swiftc, each into a static library; a module is rebuilt only when
# one of its sources (or a module it imports) is newer than its library.
#
# A C harness, Fuzz/targets/TARGET.c, is compiled alone with the toolchain's clang
# (-fsanitize=fuzzer,address) and linked with libpam: it drives the release build's
# pam_passkey.so (which libpam loads from a service file) and pam_passkey_helper, so
# `make build` must have run; those are not instrumented.
#   usage: Fuzz/build.sh TARGET        (SWIFTC, FUZZ_CC override the compilers)
set -eu
cd "$(dirname "$0")/.."
target=${1:?usage: Fuzz/build.sh TARGET}
SWIFTC=${SWIFTC:-swiftc}
out=Fuzz/build
mkdir -p "$out"

if [ -f "Fuzz/targets/$target.c" ]; then
    cc=${FUZZ_CC:-$(dirname "$(command -v "$SWIFTC")")/clang}
    src=Fuzz/targets/$target.c
    if [ ! -f "$out/$target" ] || [ -n "$(find "$src" Fuzz/build.sh -newer "$out/$target" -print -quit)" ]; then
        echo "fuzz: compiling $target"
        "$cc" -fsanitize=fuzzer,address -fuse-ld=lld -O1 -g -Wall -Wextra -Werror \
            -DFUZZ_DEFAULT_BUILD_DIR="\"$(pwd)/.build/release\"" "$src" -lpam -lpthread -o "$out/$target"
    fi
    exit 0
fi
harness=Fuzz/targets/$target.swift
[ -f "$harness" ] || { echo "fuzz: no harness $harness or Fuzz/targets/$target.c" >&2; exit 2; }
# -O: the fuzzer should try many inputs a second; Swift's bounds and overflow traps stay on.
flags="-sanitize=fuzzer,address -O -g -swift-version 6 -I Sources/CLibcrypto -I Sources/CTSS2 -I Sources/CSpawn -I $out"

# module NAME [DEPENDENCY...]: Sources/NAME/*.swift -> $out/libNAME.a + NAME.swiftmodule
module() {
    name=$1; shift
    lib=$out/lib$name.a
    stale=
    if [ ! -f "$lib" ]; then
        stale=yes
    elif [ -n "$(find "Sources/$name" Fuzz/build.sh -newer "$lib" -print -quit)" ]; then
        stale=yes
    else
        for dep in "$@"; do [ "$out/lib$dep.a" -nt "$lib" ] && stale=yes; done
    fi
    [ -z "$stale" ] && return 0
    # A C target (CLibcryptoLoader): its .c files into the archive, with the toolchain's clang.
    if [ -z "$(find "Sources/$name" -name '*.swift' -print -quit)" ]; then
        echo "fuzz: compiling C target $name"
        cc=${FUZZ_CC:-$(dirname "$(command -v "$SWIFTC")")/clang}
        rm -f "$lib"
        for c in Sources/"$name"/*.c; do
            "$cc" -fsanitize=fuzzer-no-link,address -O1 -g -I "Sources/$name/include" -c "$c" -o "$out/$name-$(basename "$c" .c).o"
        done
        ar rcs "$lib" "$out/$name"-*.o
        return 0
    fi
    echo "fuzz: compiling module $name"
    # shellcheck disable=SC2086
    "$SWIFTC" $flags -parse-as-library -module-name "$name" -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -emit-library -static -o "$lib" Sources/"$name"/*.swift
}

# The library modules the harnesses link, and their order, come from Package.swift itself
# (swift package dump-package): the regular targets that Intelligence, Authenticator and
# PAMStack need, dependencies first. Regenerated when Package.swift changes.
graph=$out/graph.txt
if [ ! -f "$graph" ] || [ Package.swift -nt "$graph" ]; then
    swift package dump-package | python3 -c '
import json, sys
targets = {t["name"]: t for t in json.load(sys.stdin)["targets"]}
def deps(name):
    return [d["byName"][0] for d in targets[name]["dependencies"] if "byName" in d
            and targets.get(d["byName"][0], {}).get("type") == "regular"]
order = []
def visit(name):
    if name in order: return
    for d in deps(name): visit(d)
    order.append(name)
for root in ("Intelligence", "Authenticator", "PAMStack"): visit(root)
for name in order: print(name, *deps(name))
' >"$graph.new"
    mv "$graph.new" "$graph"
fi
libraries=""
while read -r name deps; do
    # shellcheck disable=SC2086
    module "$name" $deps
    libraries="$out/lib$name.a $libraries"
done <"$graph"

echo "fuzz: linking $target"
# Every library, dependents first: the linker takes from each archive only what is used.
# shellcheck disable=SC2086
"$SWIFTC" $flags -parse-as-library -use-ld=lld -module-name "fuzz_$target" "$harness" $libraries \
    -lcrypto -ltss2-esys -ltss2-tctildr -ltss2-mu -ltss2-rc -o "$out/$target"
