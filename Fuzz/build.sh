#!/bin/sh
# Builds one libFuzzer target, Fuzz/build/TARGET.
#
# A Swift harness, Fuzz/targets/TARGET.swift, is linked with the library modules the parsers
# live in (Crypto, JSON, WebAuthn, HelperProtocol, Storage, Policy, Registry, HostState,
# Authenticator, Intelligence, PAMStack), all instrumented with -sanitize=fuzzer,address.
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
flags="-sanitize=fuzzer,address -O -g -swift-version 6 -I Sources/COpenSSL -I Sources/CTSS2 -I Sources/CSpawn -I $out"

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
    echo "fuzz: compiling module $name"
    # shellcheck disable=SC2086
    "$SWIFTC" $flags -parse-as-library -module-name "$name" -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -emit-library -static -o "$lib" Sources/"$name"/*.swift
}

module Crypto
module JSON
module WebAuthn Crypto JSON
module HelperProtocol WebAuthn Crypto
module Storage JSON
module Policy Storage
module Registry Storage
module HostState Storage Crypto Registry
module Authenticator WebAuthn Crypto Storage Policy HelperProtocol
module Intelligence Policy Crypto Registry HostState JSON
module PAMStack Storage

echo "fuzz: linking $target"
# Every library, dependents first: the linker takes from each archive only what is used.
# shellcheck disable=SC2086
"$SWIFTC" $flags -parse-as-library -use-ld=lld -module-name "fuzz_$target" "$harness" \
    "$out/libIntelligence.a" "$out/libAuthenticator.a" "$out/libHostState.a" "$out/libRegistry.a" "$out/libPolicy.a" "$out/libPAMStack.a" "$out/libStorage.a" \
    "$out/libHelperProtocol.a" "$out/libWebAuthn.a" "$out/libJSON.a" "$out/libCrypto.a" \
    -lcrypto -ltss2-esys -ltss2-tctildr -ltss2-mu -ltss2-rc -o "$out/$target"
