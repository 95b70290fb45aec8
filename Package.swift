// swift-tools-version:6.0
//
// pam_passkey — a Linux PAM module that signs people in with a passkey bound to this
// computer. No package dependencies: the toolchain (the Swift runtime, XCTest for tests), and
// C libraries from Debian's packages through system-library targets. The module, helper and
// CLI do not use Foundation.
//
// Sources/ follows the architecture in docs/ARCHITECTURE.md:
//   Module/          pam_passkey.so — the PAM entry points (the relying party, in libpam)
//   Helper/          pam_passkey_helper — the host authenticator process (keys, PINs), and
//                    what only it needs (its huge-page allocator for OpenSSL)
//   CLI/             passkeyctl — the administrator's tool
//   Directory/       pam_passkey_directory — registry = ldap: the only program that links libldap
//   CLDAP/           libldap as a system library (for Directory/ only)
//   CBOREncoding/    the CBOR subset WebAuthn and the helper protocol use (RFC 8949)
//   WebAuthn/        COSE, authenticatorData, clientDataJSON, attestation, verification
//   JSON/            strict JSON reader, writer, and Codable for the stored documents
//   Crypto/          SHA-256 and ECDSA P-256 verification in Swift; OpenSSL libcrypto wrappers
//                    for the rest (keys, signing, AES-GCM, scrypt, X.509), dlopened on first use
//                    (CLibcrypto/shim.h), not linked, through the one handle of
//                    CLibcryptoLoader/ (C)
//   CRuntimeOverrides/ C that the static Swift runtime binds to in the module and the helper:
//                    libm opened on first call, the arguments without /proc/self/maps
//   Identifiers/     UserName and CredentialID: checked once where they enter, typed to the disk
//   Storage/         files opened as root: O_NOFOLLOW, owner/mode checks, atomic writes, locks
//   Policy/          /etc/security/pam_passkey.conf: every key, its default, its documentation
//   Registry/        per-user credential records (shareable between hosts)
//   HostState/       host identity and per-user history on this host
//   Intelligence/    the decision: passkey login, step aside, offer append — with a reason
//   Authenticator/   host authenticator backends (software, TPM)
//   HelperProtocol/  the framed protocol between the module/CLI and the helper, and its client
//   CSpawn/          inline C functions: fork, become root, exec the helper (su, sudo); the
//                    pidfd calls; the helper's syslog line (variadic C that Swift cannot call)
//   HelperLauncher/  the setuid launcher in C, built by the Makefile with cc
//   RelyingParty/    the ceremonies (login, append/enroll) shared by the module and the CLI
//   Wording/         every sentence a person signing in sees, in one place
//   Wiring/          Site: everything the module and the CLI build from the policy, and the
//                    adapters that feed the decision's ports (each executable's Wiring.swift
//                    says what it builds)
//   PAMStack/        PAM service files read as libpam reads them, and whether the append line
//                    can run after a failed authentication (the module and passkeyctl status)
//   FleetSim/        passkey-fleet-sim — the decision driven over a simulated fleet
//   FleetSimulation/ the fleet model itself (a library, so tests can run it)
//   Bench/           passkey-bench — benchmarks that print figures
//   FootprintProbe/  the C host process passkey-bench measures the module's memory in (built
//                    by the Makefile with cc: swiftc would link the Swift runtime into it)
import PackageDescription

let root = Context.packageDirectory

// Installed binaries must not depend on where a Swift toolchain lives: link the Swift
// runtime statically.
// The Swift runtime needs the C++ runtime; scripts/link/libstdc++.so is a linker script that
// makes -lstdc++ take the static archive (libstdc++-12-dev), so libstdc++.so.6 is not loaded
// into every login either (about 0.9 MB and 3.7 M instructions per fresh process measured).
// Only pam_sm_* is exported, so the module's private copy cannot interpose on the host's.
// scripts/link/libm.so makes -lm as-needed: the module and the helper define the runtime's
// math functions themselves (Sources/CRuntimeOverrides) and do not load libm.
let staticSwift: [String] = ["-static-stdlib", "-L\(root)/scripts/link"]

// The compiler's writable constant records moved into RELRO, so that .rodata stays read-only
// (scripts/link/relro-rodata.ld; lld only: gold cannot read the script). The module and every
// shipped executable.
let constantsInRELRO: [String] = ["-use-ld=lld", "-Xlinker", "-T", "-Xlinker", "\(root)/scripts/link/relro-rodata.ld"]

// What ships is compiled without the implicit imports of _StringProcessing (regex) and
// _Concurrency: nothing uses them, and each would link its runtime library into the module
// that every PAM application loads (about 1 MB for the regex engine alone).
let noImplicitImports: SwiftSetting = .unsafeFlags([
    "-Xfrontend", "-disable-implicit-string-processing-module-import",
    "-Xfrontend", "-disable-implicit-concurrency-module-import",
])

let package = Package(
    name: "pam_passkey",
    products: [
        .library(name: "pam_passkey", type: .dynamic, targets: ["PAMModule"]),
        .executable(name: "pam_passkey_helper", targets: ["pam_passkey_helper"]),
        .executable(name: "passkeyctl", targets: ["passkeyctl"]),
        .executable(name: "pam_passkey_directory", targets: ["pam_passkey_directory"]),
        .executable(name: "passkey-fleet-sim", targets: ["passkey-fleet-sim"]),
        .executable(name: "passkey-bench", targets: ["passkey-bench"]),
        .executable(name: "passkey-docgen", targets: ["passkey-docgen"]),
    ],
    targets: [
        // C libraries from Debian's packages.
        // No pkgConfig: SwiftPM's reader of pam.pc would put -L/usr/lib/x86_64-linux-gnu (where
        // the linker looks anyway) before scripts/link, and -lm would find libc6-dev's libm.so
        // there instead of the as-needed one (test_module_abi.py).
        .systemLibrary(name: "CPAM", providers: [.apt(["libpam0g-dev"])]),
        // libcrypto for Sources/Crypto, opened on first use (CLibcrypto/shim.h), not linked by
        // anything that ships: a step-aside in login or su never maps it, nor a helper
        // answering status. Packaging/build-deb.sh names libssl3 in Depends itself.
        .systemLibrary(name: "CLibcrypto", providers: [.apt(["libssl-dev"])]),
        // The TPM libraries are opened on first use (CTSS2/shim.h), not linked: a helper on the
        // software backend never loads them.
        .systemLibrary(name: "CTSS2", providers: [.apt(["libtss2-dev"])]),
        // libfido2 for the helper's security keys, opened on first use (CFIDO2/shim.h), never
        // by pam_passkey.so.
        .systemLibrary(name: "CFIDO2", providers: [.apt(["libfido2-dev"])]),
        // libldap, for pam_passkey_directory alone: never in the module (megabytes, and it reads
        // ~/.ldaprc and LDAP* variables), the helper or passkeyctl.
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap-dev"])]),
        // Not a library: one inline C function (fork, become root, exec) posix_spawn cannot do.
        .systemLibrary(name: "CSpawn"),

        // Libraries (no Foundation: they run inside sshd, login, gdm).
        // The one C translation unit that opens libcrypto (the handle shim.h's wrappers share,
        // and the helper's "on first open" hook for its allocator).
        // DWARF 4, as swiftc writes: clang's default, 5, in one object made valgrind 3.19 give
        // up on the whole helper ("Possibly corrupted debuginfo file").
        .target(name: "CLibcryptoLoader", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        // C definitions the static Swift runtime's references bind to in the module and the
        // helper instead of libm and CommandLine.cpp's /proc/self/maps search (linked before
        // the runtime's archive, so those members stay out). -fno-builtin: libm.c defines ceil
        // and the math functions themselves.
        .target(name: "CRuntimeOverrides", cSettings: [.unsafeFlags(["-gdwarf-4", "-fno-builtin"])]),
        .target(name: "Crypto", dependencies: ["CLibcrypto", "CLibcryptoLoader"]),
        .target(name: "JSON"),
        .target(name: "CBOREncoding"),
        .target(name: "WebAuthn", dependencies: ["Identifiers", "CBOREncoding", "Crypto", "JSON"]),
        .target(name: "Identifiers"),
        .target(name: "Storage", dependencies: ["Identifiers", "JSON"]),
        .target(name: "Policy", dependencies: ["Identifiers", "Storage"]),
        .target(name: "Registry", dependencies: ["Identifiers", "Storage", "JSON", "Policy"]),
        .target(name: "HostState", dependencies: ["Identifiers", "Storage", "Crypto", "Registry"]),
        .target(name: "Wording", dependencies: ["Identifiers", "HelperProtocol", "Registry"]),
        .target(name: "Intelligence", dependencies: ["Identifiers", "Policy", "Crypto", "Registry", "HostState", "JSON", "Storage", "Wording"]),
        .target(name: "FleetSimulation", dependencies: ["Identifiers", "Intelligence", "Policy", "Registry", "HostState"]),
        .target(name: "Authenticator", dependencies: ["Identifiers", "WebAuthn", "Crypto", "Storage", "Policy", "HelperProtocol", "CTSS2", "CFIDO2", "CBOREncoding"]),
        .target(name: "HelperProtocol", dependencies: ["Identifiers", "CBOREncoding", "Crypto", "CSpawn"]),
        .target(name: "RelyingParty",
                dependencies: ["Identifiers", "WebAuthn", "Crypto", "Policy", "Registry", "HostState", "HelperProtocol", "Storage", "Wording"]),
        .target(name: "Wiring",
                dependencies: ["Identifiers", "RelyingParty", "Intelligence", "HelperProtocol", "HostState", "Policy", "Registry", "Storage", "WebAuthn"]),
        .target(name: "PAMStack", dependencies: ["Storage"]),

        // pam_passkey.so: only pam_sm_* exported, Swift runtime linked in.
        .target(name: "PAMModule",
                dependencies: ["Identifiers", "CPAM", "Policy", "Registry", "HostState", "Intelligence",
                               "HelperProtocol", "RelyingParty", "Wiring", "Wording", "PAMStack", "CRuntimeOverrides"],
                path: "Sources/Module",
                exclude: ["exports.map", "symbol-order.txt"],
                linkerSettings: [.unsafeFlags(staticSwift + constantsInRELRO + [
                    // lld, not the default gold: gold's --section-ordering-file left the
                    // functions it named spread over the module's 4.9 MB of code, and gold
                    // cannot pack relative relocations (docs/ARCHITECTURE.md, issue 17).
                    "-use-ld=lld",
                    "-Xlinker", "--version-script=\(root)/Sources/Module/exports.map",
                    "-Xlinker", "-z", "-Xlinker", "now",
                    // Stay mapped after dlclose: the Swift runtime inside initialises once per
                    // process. Re-loading it on every pam_start leaked ~10 kB a cycle.
                    "-Xlinker", "-z", "-Xlinker", "nodelete",
                    "-Xlinker", "-z", "-Xlinker", "relro",
                    // The .bss variables a step-aside touches, then the functions the usual
                    // logins run, first and together: a PAM application touches fewer of the
                    // module's pages (scripts/update-symbol-order.sh). A name the code no
                    // longer has is skipped without a word (test_module_abi.py says when most
                    // are stale).
                    "-Xlinker", "--symbol-ordering-file=\(root)/Sources/Module/symbol-order.txt",
                    "-Xlinker", "--no-warn-symbol-ordering",
                    // The runtime's 18,900 relative relocations as a 3 kB bitmap (DT_RELR,
                    // glibc 2.36) instead of 446 kB of .rela.dyn the loader reads at dlopen.
                    "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                ])]),

        // Executables.
        .executableTarget(name: "pam_passkey_helper",
                          dependencies: ["Identifiers", "Authenticator", "HelperProtocol", "Policy", "Storage", "Registry", "HostState", "WebAuthn",
                                         "Crypto", "CLibcryptoLoader", "CSpawn", "CRuntimeOverrides"],
                          path: "Sources/Helper",
                          exclude: ["symbol-order.txt"],
                          linkerSettings: [.unsafeFlags(staticSwift + [
                              // Its 18,300 relative relocations packed (DT_RELR; lld, as every
                              // shipped executable is linked, below): the loader of every helper
                              // start reads a 3 kB bitmap instead of 440 kB of .rela.dyn.
                              "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                              // As the module's: the .bss variables and the functions a status
                              // request and the logins' requests touch, first and together, so
                              // that each fresh helper takes fewer page faults before it replies
                              // (scripts/update-symbol-order.sh).
                              "-Xlinker", "--symbol-ordering-file=\(root)/Sources/Helper/symbol-order.txt",
                              "-Xlinker", "--no-warn-symbol-ordering",
                          ])]),
        .executableTarget(name: "passkeyctl",
                          dependencies: ["Identifiers", "CBOREncoding", "Crypto", "Policy", "Registry", "HostState", "Intelligence",
                                         "HelperProtocol", "RelyingParty", "Wiring", "Wording", "WebAuthn", "JSON", "PAMStack"],
                          path: "Sources/CLI",
                          linkerSettings: [.unsafeFlags(staticSwift)]),
        // The directory's side of registry = ldap: started by the module and passkeyctl with a deadline.
        .executableTarget(name: "pam_passkey_directory",
                          dependencies: ["Identifiers", "Policy", "Registry", "Storage", "Crypto", "WebAuthn", "CLDAP"],
                          path: "Sources/Directory",
                          linkerSettings: [.unsafeFlags(staticSwift)]),
        .executableTarget(name: "passkey-fleet-sim",
                          dependencies: ["FleetSimulation", "Intelligence", "Policy", "Registry", "HostState"],
                          path: "Sources/FleetSim"),
        .executableTarget(name: "passkey-bench",
                          dependencies: ["Identifiers", "CPAM", "Crypto", "WebAuthn", "Storage", "Policy", "Registry",
                                         "HostState", "Intelligence", "HelperProtocol", "RelyingParty", "Authenticator"],
                          path: "Sources/Bench",
                          // libxcrypt: the yescrypt figure the PIN KDF cost is compared with.
                          linkerSettings: [.linkedLibrary("crypt")]),
        // Prints the sample policy file, the man page's keys section and the README table.
        .executableTarget(name: "passkey-docgen", dependencies: ["Policy"], path: "Sources/DocGen"),

        // Unit tests and tests of the helper process. The module is tested through real libpam,
        // pamtester and sshd from Tests/Integration (pytest), against the built products.
        // Literals for UserName and CredentialID in tests (the shipped types have none).
        .target(name: "IdentifierLiterals", dependencies: ["Identifiers"], path: "Tests/IdentifierLiterals"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "WebAuthnTests", dependencies: ["Identifiers", "CBOREncoding", "WebAuthn", "Crypto"], exclude: ["Fixtures"]),
        .testTarget(name: "StateTests", dependencies: ["Identifiers", "IdentifierLiterals", "Storage", "Policy", "Registry", "HostState", "Crypto", "WebAuthn"]),
        // Spawned by StateTests as concurrent (and SIGKILLed) writers.
        .executableTarget(name: "passkey-state-worker", dependencies: ["Identifiers", "Storage", "Registry", "HostState", "WebAuthn"],
                          path: "Tests/StateWorker"),
        .testTarget(name: "IntelligenceTests", dependencies: ["Identifiers", "IdentifierLiterals", "Intelligence", "FleetSimulation", "Policy", "Registry", "HostState", "Storage"]),
        .testTarget(name: "PAMStackTests", dependencies: ["PAMStack"]),
        .testTarget(name: "RuntimeOverridesTests", dependencies: ["CRuntimeOverrides"]),
        .testTarget(name: "AuthenticatorTests",
                    dependencies: ["Identifiers", "IdentifierLiterals", "Authenticator", "CBOREncoding", "HelperProtocol", "WebAuthn", "Crypto", "Policy", "Storage"]),
    ],
    swiftLanguageModes: [.v6]
)

// Generic types with concrete arguments (`[CBOR: CBOR]`, `KeyringStore<SealedCredential>`, …)
// get their metadata through accessor functions the compiler emits, not by a mangled name
// the runtime demangles and whose generic requirements it checks with a conformance scan of
// the whole program (~55,000 instructions each) on a process's first use. A fresh helper
// answering status: 1.67 M -> 1.25 M instructions, libcrypto's load aside (callgrind).
let metadataAccessors: SwiftSetting = .unsafeFlags([
    "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors",
])

let shipped: Set<String> = ["PAMModule", "pam_passkey_helper", "passkeyctl", "pam_passkey_directory"]
let cTargets: Set<String> = ["CLibcryptoLoader", "CRuntimeOverrides"]
for target in package.targets where (target.type == .regular && !cTargets.contains(target.name)) || shipped.contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [noImplicitImports, metadataAccessors]
}

// The installed executables: every relocation resolved at start and then read-only (full
// RELRO, BIND_NOW), and no symbol exported. The static Swift runtime's link arguments say
// -export-dynamic, which would put every Swift symbol of the program (thousands with
// -enable-testing) in its dynamic symbol table; Packaging/executable-exports.map keeps
// them local. Tests/Integration/test_deb.py checks the packaged binaries.
let hardenedExecutable: LinkerSetting = .unsafeFlags(constantsInRELRO + [
    "-Xlinker", "-z", "-Xlinker", "relro",
    "-Xlinker", "-z", "-Xlinker", "now",
    "-Xlinker", "--version-script=\(root)/Packaging/executable-exports.map",
])
for target in package.targets where target.type == .executable && shipped.contains(target.name) {
    target.linkerSettings = (target.linkerSettings ?? []) + [hardenedExecutable]
}

// The module's SONAME, as Linux-PAM's own modules have one (pam_unix.so): without it the
// linker names the module's version definition after its path in the build directory, and
// the installed file would carry that path.
let moduleSoname: LinkerSetting = .unsafeFlags(["-Xlinker", "-soname=pam_passkey.so"])
for target in package.targets where target.name == "PAMModule" {
    target.linkerSettings = (target.linkerSettings ?? []) + [moduleSoname]
}
